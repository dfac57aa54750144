-- POST /update of random pre-filled rows (ids 1..max, never deleted by delete.lua). Args: max.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
local max, n = 1, 0
function init(args)
  max = tonumber(args[1])
  math.randomseed(1000 + tid)
end
function request()
  local id = math.random(1, max)
  n = n + 1
  return wrk.format("POST", "/update", json_headers,
    '{"id":' .. id .. ',"prompt":"an updated prompt ' .. n .. ' for row ' .. id .. '"}')
end
