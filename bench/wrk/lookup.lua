-- GET /lookup?id=N of random pre-filled rows (ids 1..max). Args: max.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
local max = 1
function init(args)
  max = tonumber(args[1])
  math.randomseed(2000 + tid)
end
function request()
  return wrk.format("GET", "/lookup?id=" .. math.random(1, max))
end
