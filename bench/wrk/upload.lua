-- POSTs the JPEG named by $BENCH_IMAGE as the multipart file part "photo" (bench/media.sh).
local f = assert(io.open(os.getenv("BENCH_IMAGE"), "rb"))
local image = f:read("*a")
f:close()
local boundary = "pxtbench7d1f0e9a"
wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH") or "/upload"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
wrk.body = "--" .. boundary .. "\r\n" ..
  "Content-Disposition: form-data; name=\"photo\"; filename=\"photo.jpg\"\r\n" ..
  "Content-Type: image/jpeg\r\n\r\n" .. image .. "\r\n--" .. boundary .. "--\r\n"

