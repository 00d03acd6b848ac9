-- GET /p/$CIRCUIT/items/{dfid} (the public item page) for random DFIDs from $DFID_FILE.
local dfids = {}
for line in io.lines(os.getenv("DFID_FILE")) do
  if #line > 0 then table.insert(dfids, line) end
end
local circuit = os.getenv("CIRCUIT")
math.randomseed(os.time())
function request()
  return wrk.format("GET", "/p/" .. circuit .. "/items/" .. dfids[math.random(#dfids)])
end
