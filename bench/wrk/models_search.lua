-- POST /search with {"query_text": ...}, cycling through a fixed list of query texts (so their
-- embeddings are cached after the first round: the search itself is measured).
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
local n, count = 0, 200
function init(args)
  count = tonumber(args[1] or "200")
  n = tid * 7
end
function request()
  n = n + 1
  return wrk.format("POST", "/search", json_headers,
    '{"query_text":"query ' .. (n % count) .. ' about ' .. ((n % count) * 7 % 97) .. ' things"}')
end
