-- POST /delete of pre-filled rows, each id once: thread t deletes base + t*span + 0, 1, 2, ...
-- Args: base span. routes.sh sizes the ranges so a run never runs out of rows; past the end
-- the ids wrap and deletes find nothing (num_rows 0), which routes.sh reports.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
local base, span, n = 0, 0, 0
function init(args)
  base = tonumber(args[1]) + tid * tonumber(args[2])
  span = tonumber(args[2])
end
function request()
  local id = base + (n % span)
  n = n + 1
  return wrk.format("POST", "/delete", json_headers, '{"id":' .. id .. '}')
end
