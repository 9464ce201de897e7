-- Appends one event to a job, atomically: the seq check, the new state, its history entry (with
-- compaction), its event id, the indexes, and the broadcast to the other nodes.
-- KEYS: 1 job hash, 2 history zset, 3 event-ids hash, 4 jobs index, 5 finished index,
--       6 lifecycle log stream
-- ARGV: 1 seq, 2 state JSON, 3 transition (1/0), 4 event id or '', 5 built-on state JSON or '',
--       6 status, 7 owner, 8 type, 9 index member (created), 10 finished member or '',
--       11 key prefix, 12 origin node, 13 job channel, 14 lifecycle channel, 15 terminal (1/0),
--       16 lifecycle log length
-- Returns {'ok', change} or a refusal: {'exists'} (seq 1 on a taken id), {'gone'},
-- {'out_of_order', stored seq}, {'built_on', stored state}.
local seq = tonumber(ARGV[1])
local state = ARGV[2]
local status = ARGV[6]
local prefix = ARGV[11]
local change
if seq == 1 then
  if redis.call('EXISTS', KEYS[1]) == 1 then
    return {'exists'}
  end
  redis.call('HSET', KEYS[1], 'seq', 1, 'state', state, 'status', status, 'owner', ARGV[7],
    'type', ARGV[8], 'member', ARGV[9], 'finished', ARGV[10], 'tick', 0)
  redis.call('ZADD', KEYS[4], 0, ARGV[9])
  redis.call('ZADD', prefix .. 'status:' .. status, 0, ARGV[9])
  redis.call('ZADD', prefix .. 'owner:' .. ARGV[7], 0, ARGV[9])
  redis.call('ZADD', prefix .. 'type:' .. ARGV[8], 0, ARGV[9])
  change = 'CREATED'
else
  local stored = redis.call('HMGET', KEYS[1], 'seq', 'state', 'status', 'member', 'finished')
  if not stored[1] then
    return {'gone'}
  end
  local storedSeq = tonumber(stored[1])
  if storedSeq ~= seq - 1 then
    return {'out_of_order', storedSeq}
  end
  -- Built on a state not yet durable when it was computed: only on that very state.
  if ARGV[5] ~= '' and ARGV[5] ~= stored[2] then
    return {'built_on', stored[2]}
  end
  local member = stored[4]
  if stored[3] ~= status then
    redis.call('ZREM', prefix .. 'status:' .. stored[3], member)
    redis.call('ZADD', prefix .. 'status:' .. status, 0, member)
  end
  if stored[5] ~= ARGV[10] then
    if stored[5] ~= '' then
      redis.call('ZREM', KEYS[5], stored[5])
    end
    if ARGV[10] ~= '' then
      redis.call('ZADD', KEYS[5], 0, ARGV[10])
    end
  end
  redis.call('HSET', KEYS[1], 'seq', seq, 'state', state, 'status', status,
    'finished', ARGV[10])
  if ARGV[3] == '0' then
    change = 'TICK'
  elseif stored[3] ~= status or ARGV[15] == '1' then
    change = 'STATUS'
  else
    change = 'STAGE'
  end
end
if seq == 1 and ARGV[10] ~= '' then
  redis.call('ZADD', KEYS[5], 0, ARGV[10])
end
-- History keeps every transition and the latest tick: a new tick replaces the previous one.
if ARGV[3] == '0' then
  local tick = tonumber(redis.call('HGET', KEYS[1], 'tick'))
  if tick and tick > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[2], tick, tick)
  end
  redis.call('HSET', KEYS[1], 'tick', seq)
end
redis.call('ZADD', KEYS[2], seq, state)
-- The first result of an event id is the one a retry must get; it outlives the tick's compaction.
if ARGV[4] ~= '' then
  redis.call('HSETNX', KEYS[3], ARGV[4], state)
end
local message = 'U\n' .. ARGV[12] .. '\n' .. change .. '\n' .. state
if change == 'TICK' or change == 'STAGE' then
  redis.call('SPUBLISH', ARGV[13], message)
else
  -- Logged first: its id heads the message, so a node that missed it can read it back.
  local id = redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[16], '*', 'm', message)
  redis.call('PUBLISH', ARGV[14], id .. '\n' .. message)
end
return {'ok', change}
