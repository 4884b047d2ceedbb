-- The shared frontier's steps, one script each, so that every step is one
-- atomic round trip. Keys all start with the crawl's prefix (ARGV[1]);
-- times are the Redis server's, in milliseconds, so that machines whose
-- clocks differ still agree on when a host may go next.
--
-- seen      HASH  URL key (16 hex) -> depth*4 + state (0 queued, 1 leased, 2 done, 3 delayed)
-- q:HOST    ZSET  "KEY" .. task JSON -> depth*1e12 + sequence: the host's queue, shallowest first
-- hosts     ZSET  host -> when it may go next: hosts with a task queued and a slot free
-- h:HOST    HASH  inflight, next (ms), delay (ms, robots.txt Crawl-delay), probed
-- leases    ZSET  lease id -> expiry (ms)
-- lease     HASH  lease id -> host \n depth \n member
-- unrecorded HASH lease id -> HTTP status: completed, its record not yet in
--                 the process's output; the lease stays until 'recorded',
--                 so that a process killed before its write loses nothing
-- delayed   ZSET  lease id \n host \n depth \n member -> not before (ms): retries
-- open      HASH  depth -> tasks queued, leased (not yet completed) or delayed at that depth,
--                 and relinks waiting at that depth
-- spacing   HASH  lease id -> the host's next start it set, the one before,
--                 and the same of the crawl's gnext: undone if nothing was sent
-- relink    HASH  URL key -> depth \n member: a page met by a shorter path
--                 after it was leased; the process that holds its record
--                 queues its links again from there, then says 'relinked'.
--                 Until then it counts as open at its new depth, so that no
--                 deeper record is taken as final meanwhile
-- stats     HASH  queued, pages (leased or done), done, expired, seq, leaseseq, gnext
-- outputs   HASH  "machine:path" -> the output's length at its last commit
-- byhost    HASH  host -> pages done;  statuses  HASH  HTTP status ("0": no answer) -> pages done
-- hostpages HASH  host -> URLs added (the per-host cap, over every process)
-- procs     ZSET  process id -> alive until (ms): renewed with its leases,
--                 for Reset and Status to see processes that hold none

local p = ARGV[1]

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function num(v)
  return tonumber(v) or 0
end

-- limits: ARGV[2] per-host slots (0: no cap), ARGV[3] probe first (1/0)
local cap = num(ARGV[2])
local probe_first = ARGV[3] == '1'

-- schedule puts host in 'hosts' when it has a task queued and a slot
-- free, at the time it may go next; otherwise takes it out.
local function schedule(host)
  local h = p .. 'h:' .. host
  local inflight = num(redis.call('HGET', h, 'inflight'))
  local limit = cap
  if probe_first and redis.call('HGET', h, 'probed') ~= '1' then
    limit = 1
  end
  if (limit == 0 or inflight < limit) and redis.call('ZCARD', p .. 'q:' .. host) > 0 then
    redis.call('ZADD', p .. 'hosts', num(redis.call('HGET', h, 'next')), host)
  else
    redis.call('ZREM', p .. 'hosts', host)
  end
end

-- queue puts member on host's queue at depth d.
local function queue(host, d, member)
  local seq = redis.call('HINCRBY', p .. 'stats', 'seq', 1)
  redis.call('HSET', p .. 'seen', string.sub(member, 1, 16), d * 4)
  redis.call('ZADD', p .. 'q:' .. host, d * 1e12 + seq, member)
  redis.call('HINCRBY', p .. 'stats', 'queued', 1)
  schedule(host)
end

local function split(v)
  local host, d, member = string.match(v, '^([^\n]*)\n([^\n]*)\n(.*)$')
  return host, tonumber(d), member
end

-- ended frees a lease's slot and applies its host's cool-down.
local function ended(host, now, cool)
  local h = p .. 'h:' .. host
  redis.call('HINCRBY', h, 'inflight', -1)
  redis.call('HSET', h, 'probed', '1')
  if cool > 0 then
    local nxt = math.max(num(redis.call('HGET', h, 'next')), now + cool)
    redis.call('HSET', h, 'next', nxt)
  end
end

-- unspace forgets what lease id's start did to its host's and the crawl's
-- next start, and undoes it when no request was sent (robots.txt kept the
-- URL back) and nothing started since: the next page need not wait a
-- Crawl-delay for a request that never went out.
local function unspace(id, host, unsent)
  local v = redis.call('HGET', p .. 'spacing', id)
  redis.call('HDEL', p .. 'spacing', id)
  if not unsent or not v then
    return
  end
  local nxt, prev, gnxt, gprev = string.match(v, '^(%S+) (%S+) (%S+) (%S+)$')
  local h = p .. 'h:' .. host
  if redis.call('HGET', h, 'next') == nxt then
    redis.call('HSET', h, 'next', prev)
  end
  if gnxt ~= gprev and redis.call('HGET', p .. 'stats', 'gnext') == gnxt then
    redis.call('HSET', p .. 'stats', 'gnext', gprev)
  end
end

-- relinked ends k's relink, if it is at depth d (any depth when d is nil):
-- its links are queued from there.
local function relinked(k, d)
  local v = redis.call('HGET', p .. 'relink', k)
  if not v then
    return
  end
  local at = tonumber(string.match(v, '^(%d+)'))
  if d == nil or at == d then
    redis.call('HDEL', p .. 'relink', k)
    redis.call('HINCRBY', p .. 'open', at, -1)
  end
end

local op = ARGV[4]

if op == 'add' then
  -- ARGV[5] the most URLs taken from one host, over every process (0: no
  -- cap); ARGV[6..]: key, depth, host, member, capped ('1', or '0' for a
  -- seed: counted, never refused), repeated. Answers {new, refused by the
  -- cap}.
  local host_cap = num(ARGV[5])
  local new, over = 0, 0
  for i = 6, #ARGV, 5 do
    local k, d, host, member = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3]
    local capped = ARGV[i + 4] == '1'
    local old = redis.call('HGET', p .. 'seen', k)
    if not old and host_cap > 0 and capped and num(redis.call('HGET', p .. 'hostpages', host)) >= host_cap then
      over = over + 1
    elseif not old then
      new = new + 1
      redis.call('HINCRBY', p .. 'hostpages', host, 1)
      redis.call('HINCRBY', p .. 'open', d, 1)
      queue(host, d, member)
    else
      old = tonumber(old)
      local od, st = math.floor(old / 4), old % 4
      if d < od then
        if st == 0 then
          -- Queued: queue it again shallower; the deeper copy is skipped
          -- when it comes up (its depth no longer matches).
          redis.call('HINCRBY', p .. 'open', od, -1)
          redis.call('HINCRBY', p .. 'open', d, 1)
          redis.call('HINCRBY', p .. 'stats', 'queued', -1)
          queue(host, d, member)
        else
          -- Leased, done or waiting for a retry, maybe in another process:
          -- whichever holds its record relinks it (see relink above).
          redis.call('HSET', p .. 'seen', k, d * 4 + st)
          local prev = redis.call('HGET', p .. 'relink', k)
          if prev then
            redis.call('HINCRBY', p .. 'open', tonumber(string.match(prev, '^(%d+)')), -1)
          end
          redis.call('HSET', p .. 'relink', k, d .. '\n' .. member)
          redis.call('HINCRBY', p .. 'open', d, 1)
        end
      end
    end
  end
  return {new, over}
end

if op == 'lease' then
  -- ARGV[5] lease ttl, ARGV[6] per-host interval, ARGV[7] global
  -- interval, ARGV[8] max pages (0: none); all ms
  local now = now_ms()
  local ttl, interval, ginterval, max_pages = num(ARGV[5]), num(ARGV[6]), num(ARGV[7]), num(ARGV[8])
  -- Leases of processes that died come back.
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'leases', '-inf', now, 'LIMIT', 0, 100)) do
    local v = redis.call('HGET', p .. 'lease', id)
    redis.call('ZREM', p .. 'leases', id)
    redis.call('HDEL', p .. 'lease', id)
    redis.call('HDEL', p .. 'spacing', id)
    if v then
      local host, d, member = split(v)
      local status = redis.call('HGET', p .. 'unrecorded', id)
      if status then
        -- Done, but its record never reached an output: undo, fetch again.
        redis.call('HDEL', p .. 'unrecorded', id)
        redis.call('HINCRBY', p .. 'stats', 'done', -1)
        redis.call('HINCRBY', p .. 'byhost', host, -1)
        redis.call('HINCRBY', p .. 'statuses', status, -1)
        redis.call('HINCRBY', p .. 'open', d, 1)
      else
        ended(host, now, 0)
      end
      redis.call('HINCRBY', p .. 'stats', 'pages', -1)
      redis.call('HINCRBY', p .. 'stats', 'expired', 1)
      queue(host, d, member)
    end
  end
  -- Retries whose time has come go back to their host's queue.
  for _, e in ipairs(redis.call('ZRANGEBYSCORE', p .. 'delayed', '-inf', now, 'LIMIT', 0, 100)) do
    redis.call('ZREM', p .. 'delayed', e)
    local _, rest = string.match(e, '^([^\n]*)\n(.*)$')
    local host, d, member = split(rest)
    queue(host, d, member)
  end
  local stats = p .. 'stats'
  local busy = redis.call('ZCARD', p .. 'leases') + redis.call('ZCARD', p .. 'delayed')
  if max_pages > 0 and num(redis.call('HGET', stats, 'pages')) >= max_pages then
    if busy == 0 then
      return {'drained', 'max'}
    end
    return {'wait', tostring(now + 100)}
  end
  local gnext = num(redis.call('HGET', stats, 'gnext'))
  if gnext > now then
    return {'wait', tostring(gnext)}
  end
  for _ = 1, 100 do
    local hs = redis.call('ZRANGEBYSCORE', p .. 'hosts', '-inf', now, 'LIMIT', 0, 1)
    if #hs == 0 then
      break
    end
    local host = hs[1]
    local q = p .. 'q:' .. host
    local popped = redis.call('ZPOPMIN', q)
    if #popped == 0 then
      redis.call('ZREM', p .. 'hosts', host)
    else
      local member, score = popped[1], tonumber(popped[2])
      local d = math.floor(score / 1e12)
      local k = string.sub(member, 1, 16)
      if num(redis.call('HGET', p .. 'seen', k)) == d * 4 then
        redis.call('HSET', p .. 'seen', k, d * 4 + 1)
        redis.call('HINCRBY', stats, 'queued', -1)
        redis.call('HINCRBY', stats, 'pages', 1)
        local h = p .. 'h:' .. host
        redis.call('HINCRBY', h, 'inflight', 1)
        local prev, gprev = num(redis.call('HGET', h, 'next')), num(redis.call('HGET', stats, 'gnext'))
        local nxt = now + math.max(interval, num(redis.call('HGET', h, 'delay')))
        redis.call('HSET', h, 'next', nxt)
        schedule(host)
        local gnxt = gprev
        if ginterval > 0 then
          gnxt = now + ginterval
          redis.call('HSET', stats, 'gnext', gnxt)
        end
        local id = redis.call('HINCRBY', stats, 'leaseseq', 1)
        redis.call('ZADD', p .. 'leases', now + ttl, id)
        redis.call('HSET', p .. 'lease', id, host .. '\n' .. d .. '\n' .. member)
        redis.call('HSET', p .. 'spacing', id, nxt .. ' ' .. prev .. ' ' .. gnxt .. ' ' .. gprev)
        return {'lease', tostring(id), member}
      end
      schedule(host) -- a stale copy, dropped
    end
  end
  if num(redis.call('HGET', stats, 'queued')) == 0 and busy == 0 then
    return {'drained', ''}
  end
  -- Nothing may go now: say when something might.
  local at = now + 1000
  for _, key in ipairs({'hosts', 'delayed', 'leases'}) do
    local first = redis.call('ZRANGE', p .. key, 0, 0, 'WITHSCORES')
    if #first == 2 then
      at = math.min(at, tonumber(first[2]))
    end
  end
  return {'wait', tostring(math.max(at, now + 1))}
end

if op == 'relinks' then
  return redis.call('HVALS', p .. 'relink')
end

if op == 'relinked' then
  -- ARGV[5] URL key, ARGV[6] the depth its links were queued from
  relinked(ARGV[5], tonumber(ARGV[6]))
  return 1
end

if op == 'complete' or op == 'release' then
  -- ARGV[5] lease id, ARGV[6] cool-down ms; for complete ARGV[7] the HTTP
  -- status and ARGV[8] '1' when no record follows; for release ARGV[7]
  -- the delay ms and ARGV[8] the task's new member; ARGV[9] '1' when no
  -- request was sent
  local now = now_ms()
  local id = ARGV[5]
  local v = redis.call('HGET', p .. 'lease', id)
  if not v or redis.call('HEXISTS', p .. 'unrecorded', id) == 1 then
    return 0 -- expired and handed to another process, or completed
  end
  local host, d, member = split(v)
  local k = string.sub(member, 1, 16)
  ended(host, now, num(ARGV[6]))
  unspace(id, host, ARGV[9] == '1')
  if op == 'complete' then
    local seen = num(redis.call('HGET', p .. 'seen', k))
    redis.call('HSET', p .. 'seen', k, math.floor(seen / 4) * 4 + 2)
    redis.call('HINCRBY', p .. 'stats', 'done', 1)
    redis.call('HINCRBY', p .. 'byhost', host, 1)
    redis.call('HINCRBY', p .. 'statuses', ARGV[7], 1)
    -- Its links are queued: it can shorten no path now (open counts the
    -- pages that still can).
    redis.call('HINCRBY', p .. 'open', d, -1)
    if ARGV[8] == '1' then
      -- No record will come: the lease ends now. Nothing was fetched
      -- (robots.txt said no), so the page does not count against max_pages.
      -- It has no links to relink: its depth is left at 0, where no
      -- shorter path can lower it again.
      redis.call('HSET', p .. 'seen', k, 2)
      relinked(k, nil)
      redis.call('HDEL', p .. 'lease', id)
      redis.call('ZREM', p .. 'leases', id)
      redis.call('HINCRBY', p .. 'stats', 'pages', -1)
    else
      redis.call('HSET', p .. 'unrecorded', id, ARGV[7])
    end
  else
    redis.call('HDEL', p .. 'lease', id)
    redis.call('ZREM', p .. 'leases', id)
    redis.call('HSET', p .. 'seen', k, d * 4 + 3)
    redis.call('HINCRBY', p .. 'stats', 'pages', -1)
    redis.call('ZADD', p .. 'delayed', now + num(ARGV[7]), id .. '\n' .. host .. '\n' .. d .. '\n' .. ARGV[8])
  end
  schedule(host)
  return 1
end

if op == 'recorded' then
  -- ARGV[5] n, then n pairs of an output's name and its synced length,
  -- then the lease ids whose records that length now holds: one commit
  local n = num(ARGV[5])
  for i = 6, 5 + 2 * n, 2 do
    redis.call('HSET', p .. 'outputs', ARGV[i], ARGV[i + 1])
  end
  for i = 6 + 2 * n, #ARGV do
    local id = ARGV[i]
    local v = redis.call('HGET', p .. 'lease', id)
    if v and redis.call('HDEL', p .. 'unrecorded', id) == 1 then
      redis.call('HDEL', p .. 'lease', id)
      redis.call('ZREM', p .. 'leases', id)
    end
  end
  return 1
end

if op == 'renew' then
  -- ARGV[5] ttl ms, ARGV[6] this process's id, ARGV[7..] lease ids still
  -- held. The process is alive until the ttl has passed without word from
  -- it, holding leases or not (a Reset must see it either way).
  local now = now_ms()
  redis.call('ZADD', p .. 'procs', now + num(ARGV[5]), ARGV[6])
  redis.call('ZREMRANGEBYSCORE', p .. 'procs', '-inf', now)
  for i = 7, #ARGV do
    redis.call('ZADD', p .. 'leases', 'XX', now + num(ARGV[5]), ARGV[i])
  end
  return 1
end

if op == 'delay' then
  -- ARGV[5] host, ARGV[6] least spacing ms (robots.txt Crawl-delay). It
  -- is learnt just before the host's first request goes out, after that
  -- request's lease: as the in-memory limiter has it, the host's next
  -- start moves to a delay from now (the second request went right after
  -- the first). Only a longer delay changes anything.
  local h, d = p .. 'h:' .. ARGV[5], num(ARGV[6])
  if d <= num(redis.call('HGET', h, 'delay')) then
    return 0
  end
  redis.call('HSET', h, 'delay', d)
  local nxt = now_ms() + d
  if num(redis.call('HGET', h, 'next')) < nxt then
    redis.call('HSET', h, 'next', nxt)
    schedule(ARGV[5])
  end
  return 1
end

return redis.error_reply('unknown step ' .. tostring(op))
