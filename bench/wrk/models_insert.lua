-- POST to the route in args[1] with a fresh id and text per request: {"id": N, "<field>": "... N"}.
-- Args: path base field (bench/models.sh gives every run its own id base).
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
local path, base, field, n = "/", 0, "text", 0
function init(args)
  path = args[1]
  base = tonumber(args[2]) + tid * 100000000
  field = args[3]
end
function request()
  n = n + 1
  local id = base + n
  return wrk.format("POST", path, json_headers,
    '{"id":' .. id .. ',"' .. field .. '":"a short document about item ' .. id .. ' and its neighbours"}')
end
