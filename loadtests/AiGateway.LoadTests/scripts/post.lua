-- wrk script of the AiGateway load tests (driven by AiGateway.LoadTests; see docs/performance.md).
-- POSTs one body with fixed headers; optionally a different bearer token per request (round-robin over
-- LT_TOKENS), pacing (LT_DELAY_MS: mean think time per connection) and the x-gateway-overhead-ms
-- distribution (LT_OVERHEAD=1). Prints one "RESULT {json}" line when done.
local body_file = os.getenv("LT_BODY")
local headers_file = os.getenv("LT_HEADERS")
local tokens_file = os.getenv("LT_TOKENS")
local delay_ms = tonumber(os.getenv("LT_DELAY_MS") or "0")
local collect = os.getenv("LT_OVERHEAD") == "1"
local path = os.getenv("LT_PATH") or "/v1/chat/completions"

local function read(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local threads = {}
local thread_count = 0
function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local reqs, n, i = {}, 0, 0
ovh = {}      -- overhead histogram, key = overhead in units of 10 µs
non200 = 0

function init(args)
  local body = read(body_file)
  local headers = {}
  for line in read(headers_file):gmatch("[^\r\n]+") do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then headers[k] = v end
  end
  if tokens_file and tokens_file ~= "" then
    for t in read(tokens_file):gmatch("[^\r\n]+") do
      headers["Authorization"] = "Bearer " .. t
      n = n + 1
      reqs[n] = wrk.format("POST", path, headers, body)
    end
    i = (tid * 7919) % n -- threads start far apart in the token list
  else
    n = 1
    reqs[1] = wrk.format("POST", path, headers, body)
  end
  math.randomseed(tid * 31 + 7)
end

function request()
  i = i + 1
  if i > n then i = 1 end
  return reqs[i]
end

if delay_ms > 0 then
  -- Jittered (uniform 0.5–1.5 × mean) so connections do not march in step; randomised rounding to whole ms.
  function delay()
    local d = delay_ms * (0.5 + math.random())
    return math.floor(d + math.random())
  end
end

if collect then
  function response(status, headers, body)
    if status ~= 200 then non200 = non200 + 1 end
    local v = headers["x-gateway-overhead-ms"]
    if v then
      local k = math.floor(tonumber(v) * 100 + 0.5)
      ovh[k] = (ovh[k] or 0) + 1
    end
  end
end

function done(summary, latency, requests)
  local hist, total, bad = {}, 0, 0
  for _, t in ipairs(threads) do
    local h = t:get("ovh")
    if h then
      for k, c in pairs(h) do
        hist[k] = (hist[k] or 0) + c
        total = total + c
      end
    end
    bad = bad + (t:get("non200") or 0)
  end
  local keys = {}
  for k in pairs(hist) do keys[#keys + 1] = k end
  table.sort(keys)
  local function pct(p)
    if total == 0 then return -1 end
    local want, seen = math.ceil(total * p / 100), 0
    for _, k in ipairs(keys) do
      seen = seen + hist[k]
      if seen >= want then return k / 100 end
    end
    return keys[#keys] / 100
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d,' ..
    '"lat_mean_us":%.1f,"lat_max_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,' ..
    '"ovh_count":%d,"ovh_p50_ms":%.3f,"ovh_p90_ms":%.3f,"ovh_p99_ms":%.3f,"ovh_p999_ms":%.3f,"non200":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    total, pct(50), pct(90), pct(99), pct(99.9), bad))
end
