-- wrk script: a login storm. POST /iam/auth/login rotating over USERS users named PREFIX1..PREFIXn with
-- password PASSWORD. Counts answers by status; done() prints them as one JSON line ("login-statuses {...}").
-- RETRY_MS > 0: after a 503 (the gateway's hashing queue is full) the next request of this wrk thread waits
-- RETRY_MS, as a client honouring Retry-After would (wrk's lua state is per thread, not per connection, so
-- this is an approximation: one wait per 503 answered).
local n = tonumber(os.getenv("USERS") or "50")
local prefix = os.getenv("PREFIX") or "bench-user-"
local password = os.getenv("PASSWORD") or "bench-user-password-1"
local retry_ms = tonumber(os.getenv("RETRY_MS") or "0")
local threads = {}
local i = 0
local backoffs = 0
statuses = {}

setup = function(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

init = function(args)
  i = (id or 0) * 7919
end

request = function()
  i = (i % n) + 1
  local body = string.format('{"username":"%s%d","password":"%s"}', prefix, i, password)
  return wrk.format("POST", "/iam/auth/login", {["Content-Type"] = "application/json"}, body)
end

response = function(status, headers, body)
  local k = tostring(status)
  statuses[k] = (statuses[k] or 0) + 1
  if status == 503 and retry_ms > 0 then backoffs = backoffs + 1 end
end

delay = function()
  if backoffs > 0 then
    backoffs = backoffs - 1
    return retry_ms
  end
  return 0
end

done = function(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, string.format('"%s":%d', k, v)) end
  io.write("login-statuses {" .. table.concat(parts, ",") .. "}\n")
end
