-- Shared by the bench wrk scripts (loaded with dofile): numbers each wrk thread so that
-- scripts can give every thread its own id range. Each thread has its own Lua state; setup()
-- runs in the main state before the threads start.
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

json_headers = { ["Content-Type"] = "application/json" }
