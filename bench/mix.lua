-- The soak's mix: GET /api/items/{dfid} 70 %, POST /api/items/local 20 %, GET /health/db 10 %.
local dfids = {}
for line in io.lines(os.getenv("DFID_FILE")) do
  if #line > 0 then table.insert(dfids, line) end
end
local body = '{"identifiers":[{"key":"lote","value":"soak"}],"enriched_data":{"kg":400}}'
-- Headers go on wrk.headers: a table passed to wrk.format replaces them (and the -H ones).
wrk.headers["Content-Type"] = "application/json"
local counter = 0
function request()
  counter = counter + 1
  local slot = counter % 10
  if slot < 7 then
    return wrk.format("GET", "/api/items/" .. dfids[math.random(#dfids)])
  elseif slot < 9 then
    return wrk.format("POST", "/api/items/local", nil, body)
  end
  return wrk.format("GET", "/health/db")
end
