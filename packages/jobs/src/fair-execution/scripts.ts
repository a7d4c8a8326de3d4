/**
 * The Lua scripts of fair execution (README: fair execution). Each runs atomically in Redis, so
 * checking a limit and taking a slot, or parking a job and another worker waking it, cannot
 * interleave. Every script gets the same leading arguments:
 *
 *   ARGV[1] base     "<prefix>:jobs:fair:", the namespace of every key below
 *   ARGV[2] jobBase  "<prefix>:jobs:", where BullMQ keeps "<id>:lock"
 *   ARGV[3] jobId    ARGV[4] type    ARGV[5] key ('' for a job without a concurrency key)
 *   ARGV[6] maxConcurrent  ARGV[7] maxConcurrentPerKey  ARGV[8] rateMax  ARGV[9] rateWindowMs
 *   ARGV[10] now in ms, or '' for Redis's clock: one clock for every worker, however far the
 *            hosts' clocks drift apart (a test passes its own to drive time)
 *
 * Keys (all under base):
 *   run:<type>             SET   jobs of the type holding a slot
 *   run:<type>:<key>       SET   jobs of the type and key holding a slot
 *   rate:<type>:<key>      ZSET  starts in the current window (score = start time)
 *   park:<type>:<key>      LIST  parked jobs, oldest first
 *   ring:<type>            LIST  keys with parked jobs, in round-robin order; ringset:<type> SET the same keys
 *   timer:<type>:<key>     STRING the parked job that wakes itself when the key's rate window opens
 *   waiting                HASH  job id -> why it waits ("concurrency" | "rateLimit"), for the API
 *   parked                 HASH  job id -> "parked" (in its park list) | "woken" (taken off it);
 *                                "arriving" / "woken-arriving" the same for a job parked on arrival
 *                                whose BullMQ job the enqueuer has not confirmed yet
 *
 * The keys are computed in the scripts, as BullMQ's own scripts compute theirs from the queue's
 * prefix: with Redis Cluster, a prefix with a hash tag ("{jobs}") keeps them in one slot.
 */
const COMMON = `
local base, jobBase, jobId, jobType, key = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local maxConcurrent, maxPerKey = tonumber(ARGV[6]), tonumber(ARGV[7])
local rateMax, rateWindow, now = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local rcall = redis.call
if not now then
  local time = rcall('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local typeRun = base .. 'run:' .. jobType
local waiting, parked = base .. 'waiting', base .. 'parked'
local ring, ringSet = base .. 'ring:' .. jobType, base .. 'ringset:' .. jobType

local function keyRun(k) return base .. 'run:' .. jobType .. ':' .. k end
local function rateKey(k) return base .. 'rate:' .. jobType .. ':' .. k end
local function parkKey(k) return base .. 'park:' .. jobType .. ':' .. k end
local function timerKey(k) return base .. 'timer:' .. jobType .. ':' .. k end

-- A slot is a lease tied to its job's BullMQ lock: a holder whose lock has expired (its worker
-- died) holds nothing, and is dropped the first time the set is full.
-- extra: jobs let through on arrival in this call that hold no slot yet (arrive), else 0.
local function hasRoom(set, limit, extra)
  extra = extra or 0
  if limit <= 0 or rcall('SCARD', set) + extra < limit then return true end
  for _, holder in ipairs(rcall('SMEMBERS', set)) do
    if rcall('EXISTS', jobBase .. holder .. ':lock') == 0 then rcall('SREM', set, holder) end
  end
  return rcall('SCARD', set) + extra < limit
end

-- 0 when a job of key k may start now, else when the window allows the next start. extra as above:
-- when only they fill the window, it opens a window after they start.
local function rateRetryAt(k, extra)
  extra = extra or 0
  if rateMax <= 0 or k == '' then return 0 end
  local starts = rateKey(k)
  rcall('ZREMRANGEBYSCORE', starts, '-inf', now - rateWindow)
  local count = rcall('ZCARD', starts)
  if count + extra < rateMax then return 0 end
  if count < rateMax then return now + rateWindow end
  local oldest = rcall('ZRANGE', starts, 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + rateWindow
end

-- Takes the oldest parked job of key k off its list when k could start one now; false otherwise.
-- Waking reserves nothing: the woken job takes its slot like any other when it starts.
-- When only the key's rate stands in the way and no parked job of the key is timed to the
-- window's opening, the oldest is woken anyway: it parks again as that timer.
local function wakeFromKey(k)
  local list = parkKey(k)
  if rcall('LLEN', list) == 0 then return false end
  if not hasRoom(typeRun, maxConcurrent) then return false end
  if k ~= '' and not hasRoom(keyRun(k), maxPerKey) then return false end
  if rateRetryAt(k) > 0 and rcall('EXISTS', timerKey(k)) == 1 then return false end
  local id = rcall('LPOP', list)
  -- parked on arrival and not yet confirmed: the enqueuer promotes it once its add is done
  local arriving = rcall('HGET', parked, id) == 'arriving'
  rcall('HSET', parked, id, arriving and 'woken-arriving' or 'woken')
  if rcall('LLEN', list) == 0 then
    rcall('LREM', ring, 1, k)
    rcall('SREM', ringSet, k)
  end
  return id
end

-- The next key in round-robin order that can start a job: each key gets one turn per round, so
-- a key with 10,000 parked jobs takes no more turns than a key with 10.
-- A slot of the key frees room for the key's next job; a slot of the type alone, for the next key's.
local keyLimited = maxPerKey > 0 or rateMax > 0

local function wakeFromRing()
  local turns = math.min(rcall('LLEN', ring), 64)
  for _ = 1, turns do
    local k = rcall('LMOVE', ring, ring, 'LEFT', 'RIGHT')
    local id = wakeFromKey(k)
    if id then return id, k end
  end
  return false
end
`;

/**
 * Takes the job's slots, or parks it. Returns {1} or {1, wokenId, wokenKey} when it may start
 * (with the next parked job when there is room for one more), {0, reason, retryInMs} when it
 * waits: 0 to wait to be woken, else when it should wake itself (the key's rate window opens).
 */
export const ACQUIRE_SCRIPT = `${COMMON}
local perKey = key ~= ''
local reason, retryAt = false, 0
if maxConcurrent > 0 and rcall('SISMEMBER', typeRun, jobId) == 0
    and not hasRoom(typeRun, maxConcurrent) then
  reason = 'concurrency'
end
if not reason and perKey and maxPerKey > 0 and rcall('SISMEMBER', keyRun(key), jobId) == 0
    and not hasRoom(keyRun(key), maxPerKey) then
  reason = 'concurrency'
end
if not reason then
  retryAt = rateRetryAt(key)
  if retryAt > 0 then reason = 'rateLimit' end
end

local state = rcall('HGET', parked, jobId)
local onList = state == 'parked' or state == 'arriving'
if not reason then
  if maxConcurrent > 0 then rcall('SADD', typeRun, jobId) end
  if perKey and maxPerKey > 0 then rcall('SADD', keyRun(key), jobId) end
  if perKey and rateMax > 0 then
    rcall('ZADD', rateKey(key), now, jobId .. ':' .. now)
    rcall('PEXPIRE', rateKey(key), rateWindow)
  end
  -- woken by its own delay (the rate timer or the recheck), not taken off its list by a wake
  if onList then
    rcall('LREM', parkKey(key), 1, jobId)
    if rcall('LLEN', parkKey(key)) == 0 then
      rcall('LREM', ring, 1, key)
      rcall('SREM', ringSet, key)
    end
  end
  rcall('HDEL', waiting, jobId)
  rcall('HDEL', parked, jobId)
  if perKey and rcall('GET', timerKey(key)) == jobId then rcall('DEL', timerKey(key)) end
  -- a slot taken may leave room for more: the rate window that just opened, a recheck
  if perKey and keyLimited then
    local id = wakeFromKey(key)
    if id then return {1, id, key} end
  elseif maxConcurrent > 0 then
    local id, k = wakeFromRing()
    if id then return {1, id, k} end
  end
  return {1}
end

if not onList then
  -- a woken job that lost its slot to another goes back to the front
  if state == 'woken' or state == 'woken-arriving' then
    rcall('LPUSH', parkKey(key), jobId)
  else
    rcall('RPUSH', parkKey(key), jobId)
  end
  rcall('HSET', parked, jobId, 'parked')
  if rcall('SADD', ringSet, key) == 1 then rcall('RPUSH', ring, key) end
end
rcall('HSET', waiting, jobId, reason)
if reason == 'rateLimit' then
  -- one parked job per key wakes itself when the window opens; it wakes the next (wakeFromKey)
  local timer = rcall('GET', timerKey(key))
  if not timer or timer == jobId then
    rcall('SET', timerKey(key), jobId, 'PX', retryAt - now + rateWindow)
    return {0, reason, retryAt - now}
  end
end
return {0, reason, 0}
`;

/**
 * Gives the job's slots back and returns the parked jobs to wake, as {id, key, id, key}: its key's
 * next, and the type's next key's.
 */
export const RELEASE_SCRIPT = `${COMMON}
rcall('SREM', typeRun, jobId)
if key ~= '' then rcall('SREM', keyRun(key), jobId) end
local woken = {}
if key ~= '' and keyLimited then
  local id = wakeFromKey(key)
  if id then table.insert(woken, id); table.insert(woken, key) end
end
if maxConcurrent > 0 then
  local id, k = wakeFromRing()
  if id then table.insert(woken, id); table.insert(woken, k) end
end
return woken
`;

/**
 * After a parked job has been moved to BullMQ's delayed set: 1 when it was woken meanwhile (its
 * waker's promote found it still active), so its own worker promotes it now.
 */
export const CONFIRM_PARKED_SCRIPT = `${COMMON}
local state = rcall('HGET', parked, jobId)
-- woken-arriving: parked on arrival by an enqueuer that never confirmed it (it died after its add)
return (state == 'woken' or state == 'woken-arriving') and 1 or 0
`;

/**
 * Forgets a job that no longer exists in BullMQ (removed while parked); 1, keeping it, when it was
 * woken while parked on arrival: its add has not been done yet, and the enqueuer promotes it after
 * (ARRIVE_SCRIPT). Should the enqueuer never add it (it crashed), reconcile adds it later under the
 * same id, and its first admit drops these entries.
 */
export const FORGET_SCRIPT = `${COMMON}
if rcall('HGET', parked, jobId) == 'woken-arriving' then return 1 end
rcall('HDEL', waiting, jobId)
rcall('HDEL', parked, jobId)
return 0
`;

/**
 * Park on arrival: decides, for one batch the enqueuer is about to add, which jobs go to BullMQ
 * already parked (delayed) instead of to wait, so that the workers need not fetch and park a key's
 * backlog one job at a time before they reach another key's jobs. ARGV[3] is the recheck delay in
 * ms, ARGV[4]-ARGV[9] are unused; from ARGV[11], seven per job: id, type, key ('' for none),
 * maxConcurrent, maxConcurrentPerKey, rateMax, rateWindowMs (only jobs a limit applies to: a type
 * with maxConcurrent, or a key whose type limits keys).
 *
 * A job is parked when its key already has parked jobs (it queues behind them, FIFO; the jobs
 * without a key share the key ''), or when its type's slots (maxConcurrent), its key's slots or
 * its key's rate window are full, counting the jobs of the type and of the key this batch lets
 * through, so a burst puts no more of them in wait than the limits. Parking is the acquire's: the end of
 * the key's list, the key on the ring, the reason in waiting; the first job parked for a key's rate
 * becomes its timer. The job is marked "arriving" until the enqueuer, its add done, confirms it
 * (CONFIRM_ARRIVED_SCRIPT): a release may take it off its list before BullMQ has it.
 * Returns {id, delayMs, ...} for the parked jobs; the others go to wait.
 */
export const ARRIVE_SCRIPT = `${COMMON}
local recheckMs = tonumber(ARGV[3])
local passed = {}
local passedType = {}
local result = {}
for i = 11, #ARGV, 7 do
  -- the helpers above read these variables: each job sets them to its own type, key and limits
  jobId, jobType, key = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  maxConcurrent, maxPerKey = tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])
  rateMax, rateWindow = tonumber(ARGV[i + 5]), tonumber(ARGV[i + 6])
  typeRun = base .. 'run:' .. jobType
  ring, ringSet = base .. 'ring:' .. jobType, base .. 'ringset:' .. jobType
  local list = parkKey(key)
  local state = rcall('HGET', parked, jobId)
  if state then
    -- decided by an earlier try of this add (a batch tried again job by job): it stays parked
    table.insert(result, jobId)
    table.insert(result, recheckMs)
  else
    local through = passed[jobType .. ' ' .. key] or 0
    local typeThrough = passedType[jobType] or 0
    local reason, retryAt = false, 0
    if maxConcurrent > 0 and not hasRoom(typeRun, maxConcurrent, typeThrough) then
      reason = 'concurrency'
    end
    if not reason and key ~= '' and maxPerKey > 0 and not hasRoom(keyRun(key), maxPerKey, through) then
      reason = 'concurrency'
    end
    if not reason then
      retryAt = rateRetryAt(key, through)
      if retryAt > 0 then reason = 'rateLimit' end
    end
    if not reason and rcall('LLEN', list) > 0 then
      -- room, but older jobs of the key are parked (one is being woken): behind them
      reason = rcall('HGET', waiting, rcall('LINDEX', list, -1)) or 'concurrency'
    end
    if reason then
      rcall('RPUSH', list, jobId)
      rcall('HSET', parked, jobId, 'arriving')
      if rcall('SADD', ringSet, key) == 1 then rcall('RPUSH', ring, key) end
      rcall('HSET', waiting, jobId, reason)
      local delay = recheckMs
      if retryAt > 0 and rcall('EXISTS', timerKey(key)) == 0 then
        rcall('SET', timerKey(key), jobId, 'PX', retryAt - now + rateWindow)
        delay = math.max(retryAt - now, 1)
      end
      table.insert(result, jobId)
      table.insert(result, delay)
    else
      passed[jobType .. ' ' .. key] = through + 1
      passedType[jobType] = typeThrough + 1
    end
  end
end
return result
`;

/**
 * After the enqueuer has added the jobs ARRIVE_SCRIPT parked (ARGV from 11: their ids): marks them
 * parked, and returns those a release took off their list meanwhile (its promote found no job),
 * which the enqueuer promotes now.
 */
export const CONFIRM_ARRIVED_SCRIPT = `${COMMON}
local woken = {}
for i = 11, #ARGV do
  local id = ARGV[i]
  local state = rcall('HGET', parked, id)
  if state == 'arriving' then
    rcall('HSET', parked, id, 'parked')
  elseif state == 'woken-arriving' then
    rcall('HSET', parked, id, 'woken')
    table.insert(woken, id)
  end
end
return woken
`;

/** How many jobs hold a slot: of the type's key (key given), or of the type. Expired leases do not count. */
export const HOLDERS_SCRIPT = `${COMMON}
local set = key ~= '' and keyRun(key) or typeRun
hasRoom(set, 1)
return rcall('SCARD', set)
`;
