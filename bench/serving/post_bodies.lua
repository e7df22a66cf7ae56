-- wrk script for bench/serving_bench.sh: POSTs JSON bodies read from a file (one body per line, given after
-- `--` on wrk's command line), rotating over them. Requests are formatted once in init(), so the per-request
-- cost on wrk's side is a table lookup. Each wrk thread starts at a different offset of the rotation.
--   wrk -t2 -c32 -d10s -s bench/serving/post_bodies.lua http://127.0.0.1:PORT/v1/score/ato -- bodies.jsonl
--
-- Fresh events: with `-- bodies.jsonl FROM_MS ZERO_MS`, the 16-digit value of the first "event_id" field (which
-- must come before "time"; a one-row push's columns [1...] and ["..."] work too) becomes a new id per request
-- (the start second, the thread and a counter), and
-- the 24-character value of the first "time" field
-- of each body ("2026-01-31T23:59:59.123Z") is replaced in every request by FROM_MS + (now - ZERO_MS), now the
-- wall clock in milliseconds: replayed events then arrive as new events, in time order, instead of as
-- duplicates of events already pushed. Both times are milliseconds since the epoch; the bench passes the same
-- ZERO_MS to every run, so event time keeps moving forward from one run to the next.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } gyre_timespec;
  int clock_gettime(int clock, gyre_timespec* ts);
]]
local timespec = ffi.new("gyre_timespec")

local threads_started = 0

function setup(thread)
  thread:set("thread_number", threads_started)
  threads_started = threads_started + 1
end

local requests = {}    -- whole requests, or the part before the event id when events are fresh
local before_time = {} -- the part between the event id and the time value
local after_time = {}  -- the part after the time value
local id_prefix, id_counter = "", 0
local next_index = 0
local from_ms, zero_ms = nil, nil
local cached_second, cached_prefix = -1, ""

function init(args)
  local path = args[1]
  if path == nil then
    error("post_bodies.lua: pass the bodies file after --")
  end
  if args[2] ~= nil then
    from_ms, zero_ms = tonumber(args[2]), tonumber(args[3])
    if from_ms == nil or zero_ms == nil then
      error("post_bodies.lua: fresh times need FROM_MS and ZERO_MS after the bodies file")
    end
  end
  local file = assert(io.open(path, "r"))
  for line in file:lines() do
    if #line > 0 then
      local request = wrk.format("POST", nil, {["Content-Type"] = "application/json"}, line)
      if from_ms ~= nil then
        -- An event ({"event_id":1...,"time":"..."}) or a push's columns ({"event_id":[1...],"time":["..."]}).
        local id_at = string.find(request, '"event_id":', 1, true)
        local at, time_key = string.find(request, '"time":"', 1, true), 8
        if at == nil then
          at, time_key = string.find(request, '"time":["', 1, true), 9
        end
        if at == nil or id_at == nil or id_at > at then
          error("post_bodies.lua: a body has no \"event_id\" before its \"time\" field: " .. line)
        end
        local id_value_at, value_at = id_at + 11, at + time_key
        if string.sub(request, id_value_at, id_value_at) == "[" then
          id_value_at = id_value_at + 1
        end
        requests[#requests + 1] = string.sub(request, 1, id_value_at - 1)
        before_time[#requests] = string.sub(request, id_value_at + 16, value_at - 1)
        after_time[#requests] = string.sub(request, value_at + 24)
      else
        requests[#requests + 1] = request
      end
    end
  end
  file:close()
  if #requests == 0 then
    error("post_bodies.lua: no bodies in " .. path)
  end
  next_index = ((thread_number or 0) * 7919) % #requests
  -- "1" + 5 digits of the start second + 3 of the thread: 9 digits, then a 7-digit counter.
  id_prefix = string.format("1%05d%03d", os.time() % 100000, (thread_number or 0) % 1000)
end

local function event_time()
  ffi.C.clock_gettime(0, timespec)  -- CLOCK_REALTIME
  local now_ms = tonumber(timespec.tv_sec) * 1000 + math.floor(tonumber(timespec.tv_nsec) / 1000000)
  local t = from_ms + (now_ms - zero_ms)
  local second = math.floor(t / 1000)
  if second ~= cached_second then
    cached_second = second
    cached_prefix = os.date("!%Y-%m-%dT%H:%M:%S", second)
  end
  return cached_prefix .. string.format(".%03dZ", t % 1000)
end

function request()
  next_index = next_index % #requests + 1
  if from_ms == nil then
    return requests[next_index]
  end
  id_counter = id_counter + 1
  return requests[next_index] .. id_prefix .. string.format("%07d", id_counter % 10000000) .. before_time[next_index] ..
         event_time() .. after_time[next_index]
end
