-- Logins as bench users login-1 .. login-N in turn (N from $LOGIN_USERS).
local users = tonumber(os.getenv("LOGIN_USERS") or "10")
local password = os.getenv("LOGIN_PASSWORD")
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function request()
  counter = counter + 1
  local body = string.format('{"username":"login-%d","password":"%s"}', (counter % users) + 1, password)
  return wrk.format(nil, "/api/auth/login", nil, body)
end
