-- POST /api/circuits/$CIRCUIT_ID/push-local for local ids from $LID_FILE, each pushed once:
-- thread k of n takes ids k, k+n, k+2n, ...
local lids = {}
for line in io.lines(os.getenv("LID_FILE")) do
  if #line > 0 then table.insert(lids, line) end
end
local path = "/api/circuits/" .. os.getenv("CIRCUIT_ID") .. "/push-local"
-- Headers go on wrk.headers: a table passed to wrk.format replaces them (and the -H ones).
wrk.headers["Content-Type"] = "application/json"
local thread_count = 0
function setup_extra(thread)
  thread:set("index", thread_count)
  thread_count = thread_count + 1
  thread:set("stride", 2)
end
local next_lid
function init_extra(args)
  next_lid = index + 1
end
function request()
  local lid = lids[next_lid] or lids[1] -- past the end: a repeat, answered 200 and counted apart
  next_lid = next_lid + stride
  return wrk.format("POST", path, nil, '{"local_id":"' .. lid .. '"}')
end
