-- wrk script: optional request shaping from $WRK_SCRIPT, and a JSON summary line with status
-- counts, so the bench can tell 2xx, 503 and everything else apart.
local extra = os.getenv("WRK_SCRIPT")
if extra and extra ~= "" then dofile(extra) end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  if setup_extra then setup_extra(thread) end
end

function init(args)
  statuses = {}
  if init_extra then init_extra(args) end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if response_extra then response_extra(status, headers, body) end
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for code, n in pairs(s) do counts[code] = (counts[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(counts) do table.insert(parts, string.format('"%d":%d', code, n)) end
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'JSON {"requests":%d,"rps":%.1f,"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"socket_errors":%d,"statuses":{%s}}\n',
    summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, errors, table.concat(parts, ",")))
end
