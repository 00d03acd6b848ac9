-- POST /api/items/local with a small body.
wrk.method = "POST"
wrk.path = "/api/items/local"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"identifiers":[{"key":"lote","value":"L-1"}],"enriched_data":{"kg":410}}'
