-- GET /log/proof/inclusion for random leaves of the tree of $TREE_SIZE entries.
local size = tonumber(os.getenv("TREE_SIZE"))
math.randomseed(os.time())
function request()
  return wrk.format("GET", string.format("/log/proof/inclusion?index=%d&tree_size=%d", math.random(0, size - 1), size))
end
