-- GET $DFID_PATH (default /api/items/{dfid}) with {dfid} replaced by a random DFID from
-- $DFID_FILE: the item reads, the traces and the public item pages.
local dfids = {}
for line in io.lines(os.getenv("DFID_FILE")) do
  if #line > 0 then table.insert(dfids, line) end
end
local template = os.getenv("DFID_PATH") or "/api/items/{dfid}"
local before, after = template:match("^(.-){dfid}(.*)$")
math.randomseed(os.time())
function request()
  return wrk.format("GET", before .. dfids[math.random(#dfids)] .. after)
end
