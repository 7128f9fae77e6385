-- wrk script: a paced probe (not a load): each connection sends its next request DELAY_MS after the last
-- answer, so `-c2` with DELAY_MS=10 is about 200 req/s. For the latency of a light request while something
-- else loads the gateway. Optional AUTH: sent as "Authorization: Bearer AUTH".
local delay_ms = tonumber(os.getenv("DELAY_MS") or "10")
local auth = os.getenv("AUTH")
if auth and auth ~= "" then wrk.headers["Authorization"] = "Bearer " .. auth end

delay = function()
  return delay_ms
end
