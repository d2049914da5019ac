-- wrk script: the worker protocol's claim + PATCH cycle.
--
--   POST /api/workers/claim {"runner": "bench-N", "maxTasks": 1}
--   PATCH /api/workers/{id} {"status": "completed", "progress": 100, "summary": "bench"}   (frees the slot)
--
-- A claimed worker id (parsed from the claim response) goes into a queue; the next request a connection sends
-- is a PATCH of a queued worker when there is one, else a new claim. With BENCH_FALLBACK_WORKER set (Prism: it
-- is stateless and always answers `workers: []`) requests alternate claim / PATCH of that fixed id, so every
-- server gets the same plain requests.
--
-- Environment:
--   BENCH_KEYS             comma-separated `accountId=key` pairs (or bare keys); claims rotate over them and a
--                          PATCH uses the key of the account that claimed the worker
--   BENCH_FALLBACK_WORKER  a worker id to PATCH when the queue is empty (Prism)
-- done() prints one line `BENCHJSON {...}` with the request mix, parsed by bench/_common.py.

local keys, key_of = {}, {}
for pair in string.gmatch(os.getenv("BENCH_KEYS") or "", "[^,]+") do
  local acc, key = string.match(pair, "^([^=]+)=(.+)$")
  if not key then key = pair end
  keys[#keys + 1] = key
  if acc then key_of[acc] = key end
end
local fallback = os.getenv("BENCH_FALLBACK_WORKER")
if fallback == "" then fallback = nil end

local queue, qhead, qtail = {}, 1, 0
local n, next_key = 0, 0
local toggle = false
claims, claimed, claims_empty, patches, patch_ok, other = 0, 0, 0, 0, 0, 0
unattributed = 0

local function push(id, key) qtail = qtail + 1; queue[qtail] = {id, key} end
local function pop()
  if qhead > qtail then return nil end
  local item = queue[qhead]; queue[qhead] = nil; qhead = qhead + 1
  return item
end

local function hdrs(key)
  return {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}
end

local patch_body = '{"status":"completed","progress":100,"summary":"bench"}'

local function patch(id, key)
  patches = patches + 1
  return wrk.format("PATCH", "/api/workers/" .. id, hdrs(key), patch_body)
end

local function claim()
  claims = claims + 1
  n = n + 1
  next_key = next_key % #keys + 1
  local body = '{"runner":"bench-' .. (n % 50) .. '","maxTasks":1}'
  return wrk.format("POST", "/api/workers/claim", hdrs(keys[next_key]), body)
end

request = function()
  local item = pop()
  if item then return patch(item[1], item[2]) end
  if fallback then
    toggle = not toggle
    if not toggle then return patch(fallback, keys[1]) end
  end
  return claim()
end

response = function(status, headers, body)
  if status >= 300 then other = other + 1; return end
  local workers = string.match(body, '^{"workers":%[(.*)$') or string.match(body, '"workers":%[(.*)$')
  if workers then
    if string.sub(workers, 1, 1) == "]" then claims_empty = claims_empty + 1; return end
    claimed = claimed + 1
    -- the worker's own id: ClaimedWorker puts "id" first; the account id, when present, attributes the key
    local id = string.match(workers, '^{"id":"([0-9a-f%-]+)"') or string.match(workers, '"id":"([0-9a-f%-]+)"')
    local acc = string.match(workers, '"accountId":"([0-9a-f%-]+)"') or string.match(workers, '"claimedBy":"([0-9a-f%-]+)"')
    local key = (acc and key_of[acc]) or nil
    if not key then
      if #keys == 1 then key = keys[1] else unattributed = unattributed + 1; return end
    end
    if id and not fallback then push(id, key) end
  elseif string.find(body, '"instructions"', 1, true) then
    patch_ok = patch_ok + 1
  else
    other = other + 1
  end
end

local threads = {}
setup = function(thread) threads[#threads + 1] = thread end

done = function(summary, latency, requests)
  local t = {claims = 0, claimed = 0, claims_empty = 0, patches = 0, patch_ok = 0, other = 0, unattributed = 0}
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + (th:get(k) or 0) end
  end
  local parts = {}
  for k, v in pairs(t) do parts[#parts + 1] = string.format('"%s":%d', k, v) end
  io.write("BENCHJSON {" .. table.concat(parts, ",") .. "}\n")
end
