-- POST /search with {"query_text": ...}, cycling through the query texts of a file (one per line,
-- written by bench/models.sh), so their embeddings are cached after the first round: the search
-- itself is measured. Args: the file.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
local texts, n = {}, 0
function init(args)
  for line in io.lines(args[1]) do
    texts[#texts + 1] = line
  end
  n = tid * 7
end
function request()
  n = n + 1
  return wrk.format("POST", "/search", json_headers, '{"query_text":"' .. texts[n % #texts + 1] .. '"}')
end
