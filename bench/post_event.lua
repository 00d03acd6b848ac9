-- POST /api/events on random DFIDs from $DFID_FILE: each one is a logged fact.
local dfids = {}
for line in io.lines(os.getenv("DFID_FILE")) do
  if #line > 0 then table.insert(dfids, line) end
end
math.randomseed(os.time())
local n = 0
function request()
  n = n + 1
  local body = string.format('{"dfid":"%s","event_type":"Weighed","metadata":{"kg":%d}}', dfids[math.random(#dfids)], n)
  -- Headers given to wrk.format replace wrk's own (-H), so they are copied.
  local headers = { ["Content-Type"] = "application/json" }
  for name, value in pairs(wrk.headers) do headers[name] = value end
  return wrk.format("POST", "/api/events", headers, body)
end
