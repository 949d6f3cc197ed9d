-- Shared by the wrk scripts: one machine-readable line with the run's figures.
-- wrk counts a response with status > 399 in errors.status; latencies are in microseconds.

function done(summary, latency, requests)
   local errors = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "WRK_STATS {\"requests\":%d,\"duration_s\":%.3f,\"rps\":%.2f,\"non_2xx\":%d,"
         .. "\"socket_errors\":{\"connect\":%d,\"read\":%d,\"write\":%d,\"timeout\":%d},"
         .. "\"latency_us\":{\"p50\":%d,\"p90\":%d,\"p99\":%d,\"max\":%d,\"mean\":%.1f}}\n",
      summary.requests, seconds, summary.requests / seconds, errors.status,
      errors.connect, errors.read, errors.write, errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean
   ))
end
