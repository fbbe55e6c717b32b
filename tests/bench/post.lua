-- wrk script of `make bench`: POST with a JSON body and the token header, count statuses,
-- and print one JSON line of results at the end (latencies in microseconds).
-- Environment: BENCH_BODY (request body; empty = GET), BENCH_TOKEN, BENCH_KEEPALIVE (1: keep
-- connections open; default: "Connection: close", a new connection per request, as API clients
-- mostly do, and so that more connections than Apache's 20 workers queue fairly instead of
-- 12 of 32 kept-alive connections waiting behind the others for the whole run).
local body = os.getenv("BENCH_BODY") or ""
local token = os.getenv("BENCH_TOKEN") or ""
local keepalive = os.getenv("BENCH_KEEPALIVE") == "1"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  if body ~= "" then
    wrk.method = "POST"
    wrk.body = body
    wrk.headers["Content-Type"] = "application/json"
  end
  wrk.headers["token"] = token
  if not keepalive then
    wrk.headers["Connection"] = "close"
  end
end

function response(status, headers, rbody)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for code, n in pairs(s) do counts[code] = (counts[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(counts) do table.insert(parts, string.format('"%d":%d', code, n)) end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"stdev_us":%.1f,"errors":{"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d},"statuses":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, latency.stdev,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout, table.concat(parts, ",")))
end
