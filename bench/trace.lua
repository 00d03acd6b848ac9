-- GET /api/items/{dfid}/trace?direction=backward for random DFIDs from $DFID_FILE.
local dfids = {}
for line in io.lines(os.getenv("DFID_FILE")) do
  if #line > 0 then table.insert(dfids, line) end
end
math.randomseed(os.time())
function request()
  return wrk.format("GET", "/api/items/" .. dfids[math.random(#dfids)] .. "/trace?direction=backward")
end
