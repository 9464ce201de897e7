-- Deletes up to a batch of jobs that finished before a cutoff, oldest first, telling the other nodes.
-- KEYS: 1 finished index, 2 jobs index, 3 lifecycle log stream
-- ARGV: 1 cutoff (zero-padded epoch nanos; members before it, exclusive), 2 batch size,
--       3 key prefix, 4 origin node, 5 lifecycle channel, 6 lifecycle log length
-- Returns the ids deleted; fewer than the batch size means none is left.
local prefix = ARGV[3]
local members = redis.call('ZRANGEBYLEX', KEYS[1], '-', '(' .. ARGV[1], 'LIMIT', 0,
  tonumber(ARGV[2]))
local ids = {}
for _, finished in ipairs(members) do
  -- 19 digits and ':' precede the id
  local id = string.sub(finished, 21)
  local job = prefix .. 'job:' .. id
  local f = redis.call('HMGET', job, 'member', 'status', 'owner', 'type')
  if f[1] then
    redis.call('ZREM', KEYS[2], f[1])
    redis.call('ZREM', prefix .. 'status:' .. f[2], f[1])
    redis.call('ZREM', prefix .. 'owner:' .. f[3], f[1])
    redis.call('ZREM', prefix .. 'type:' .. f[4], f[1])
  end
  redis.call('ZREM', KEYS[1], finished)
  redis.call('DEL', job, prefix .. 'history:' .. id, prefix .. 'event-ids:' .. id)
  local message = 'R\n' .. ARGV[4] .. '\n' .. id
  local logged = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'm', message)
  redis.call('PUBLISH', ARGV[5], logged .. '\n' .. message)
  ids[#ids + 1] = id
end
return ids
