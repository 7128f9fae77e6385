-- wrk script: heartbeats from N simulated backends, round robin over their serverUrls.
local n = tonumber(os.getenv("BACKENDS") or "10000")
local i = 0
request = function()
  i = (i % n) + 1
  local body = string.format(
    '{"serverUrl":"http://127.%d.%d.%d:9","status":"Ready","activeSessions":%d,"maxSessions":20,' ..
    '"instanceType":"sim","tags":[],"cpuUsage":12.5,"memoryUsage":40.0,"timestamp":"2026-11-26T00:00:00Z"}',
    math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256, i % 20)
  return wrk.format("POST", "/gateway/heartbeat", {["Content-Type"] = "application/json"}, body)
end

-- Pacing: with 20 connections, 20 ms between requests on each gives about 1,000 heartbeats per second.
delay = function()
  return tonumber(os.getenv("DELAY_MS") or "20")
end
