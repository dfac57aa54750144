-- POST /insert with fresh primary keys: thread t of a run sends ids base + t*span + 0, 1, 2, ...
-- Args: base span (routes.sh gives every run its own base, so runs never collide).
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
local base, span, n = 0, 0, 0
function init(args)
  base = tonumber(args[1]) + tid * tonumber(args[2])
  span = tonumber(args[2])
end
function request()
  local id = base + (n % span)
  n = n + 1
  return wrk.format("POST", "/insert", json_headers,
    '{"id":' .. id .. ',"prompt":"a photo of a sunset over the ocean number ' .. id .. '"}')
end
