-- wrk script for scripts/bench/http.sh: sends `Authorization: Bearer $STOCKPILOT_API_KEY` when
-- the variable is set, and prints one machine-readable line (prefixed WRK_JSON) at the end.
local key = os.getenv("STOCKPILOT_API_KEY")
if key ~= nil and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end

done = function(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'WRK_JSON {"requests":%d,"seconds":%.3f,"bytes":%d,"rps":%.1f,' ..
    '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,' ..
    '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_timeout":%d,"non_2xx_3xx":%d}\n',
    summary.requests, seconds, summary.bytes, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    e.connect, e.read, e.write, e.timeout, e.status))
end
