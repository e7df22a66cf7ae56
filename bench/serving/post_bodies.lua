-- wrk script for bench/serving_bench.sh: POSTs JSON bodies read from a file (one body per line, given after
-- `--` on wrk's command line), rotating over them. Requests are formatted once in init(), so the per-request
-- cost on wrk's side is a table lookup. Each wrk thread starts at a different offset of the rotation.
--   wrk -t2 -c32 -d10s -s bench/serving/post_bodies.lua http://127.0.0.1:PORT/v1/score/ato -- bodies.jsonl

local threads_started = 0

function setup(thread)
  thread:set("thread_number", threads_started)
  threads_started = threads_started + 1
end

local requests = {}
local next_index = 0

function init(args)
  local path = args[1]
  if path == nil then
    error("post_bodies.lua: pass the bodies file after --")
  end
  local file = assert(io.open(path, "r"))
  for line in file:lines() do
    if #line > 0 then
      requests[#requests + 1] = wrk.format("POST", nil, {["Content-Type"] = "application/json"}, line)
    end
  end
  file:close()
  if #requests == 0 then
    error("post_bodies.lua: no bodies in " .. path)
  end
  next_index = ((thread_number or 0) * 7919) % #requests
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end
