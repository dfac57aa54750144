-- The soak's mix (bench/soak.sh), per 100 requests: 35 lookups, 30 inserts, 10 updates, 5
-- deletes (of this thread's own recent inserts), 5 uploads of a ~200 KB JPEG (thumbnailed), 5
-- background insert jobs, 10 range GETs of stored media. Args: base (a fresh id range per run),
-- rows (ids 1..rows are pre-filled). Counts the answers by kind and status.
local kinds = { "lookup", "insert", "update", "delete", "upload", "job", "range" }
local cut = { 35, 65, 75, 80, 85, 90, 100 }
local threads = {}
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local json = { ["Content-Type"] = "application/json" }
local f = assert(io.open(os.getenv("BENCH_IMAGE"), "rb"))
local image = f:read("*a")
f:close()
local boundary = "pxtsoak5e0c1f2a"
local upload_headers = { ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }
local media = {}
for line in io.lines(os.getenv("BENCH_MEDIA_LIST")) do table.insert(media, line) end

local base, rows, n, last = 0, 1, 0, nil
bad = 0
function init(args)
  base = tonumber(args[1]) + tid * 10000000
  rows = tonumber(args[2])
  math.randomseed(base)
end

local function upload_body(id)
  return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n" .. id .. "\r\n--" ..
    boundary .. "\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.jpg\"\r\n" ..
    "Content-Type: image/jpeg\r\n\r\n" .. image .. "\r\n--" .. boundary .. "--\r\n"
end

function request()
  n = n + 1
  local r = math.random(100)
  local id = base + n
  if r <= cut[1] then
    last = 1
    return wrk.format("GET", "/lookup?id=" .. math.random(rows))
  elseif r <= cut[2] then
    last = 2
    return wrk.format("POST", "/insert", json, '{"id":' .. id .. ',"prompt":"soak row ' .. id .. '"}')
  elseif r <= cut[3] then
    last = 3
    return wrk.format("POST", "/update", json, '{"id":' .. math.random(rows) .. ',"prompt":"updated ' .. n .. '"}')
  elseif r <= cut[4] then
    last = 4
    return wrk.format("POST", "/delete", json, '{"id":' .. (base + math.max(1, n - 50)) .. '}')
  elseif r <= cut[5] then
    last = 5
    return wrk.format("POST", "/upload", upload_headers, upload_body(id))
  elseif r <= cut[6] then
    last = 6
    return wrk.format("POST", "/insert_bg", json, '{"id":' .. (id + 5000000) .. ',"prompt":"job ' .. id .. '"}')
  end
  last = 7
  local start = math.random(0, 2000)
  return wrk.format("GET", media[math.random(#media)], { ["Range"] = "bytes=" .. start .. "-" .. (start + 4095) })
end

function response(status, headers, body)
  -- 2xx and 206 are answers; a 404 on a lookup is a row deleted meanwhile (none are: deletes
  -- only touch this run's inserts), so anything else counts as bad.
  if status >= 300 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("soak: bad=%d\n", total))
end
