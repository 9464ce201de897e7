-- Deletes one job, its history, its event ids and its index entries, and tells the other nodes.
-- KEYS: 1 job hash, 2 history zset, 3 event-ids hash, 4 jobs index, 5 finished index,
--       6 lifecycle log stream
-- ARGV: 1 key prefix, 2 job id, 3 origin node, 4 lifecycle channel, 5 lifecycle log length
-- Returns 1 if the job existed, else 0.
local f = redis.call('HMGET', KEYS[1], 'member', 'status', 'owner', 'type', 'finished')
if not f[1] then
  return 0
end
local prefix = ARGV[1]
redis.call('ZREM', KEYS[4], f[1])
redis.call('ZREM', prefix .. 'status:' .. f[2], f[1])
redis.call('ZREM', prefix .. 'owner:' .. f[3], f[1])
redis.call('ZREM', prefix .. 'type:' .. f[4], f[1])
if f[5] and f[5] ~= '' then
  redis.call('ZREM', KEYS[5], f[5])
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
-- With the delete, so that every node hears of it exactly when it happened, or not at all.
local message = 'R\n' .. ARGV[3] .. '\n' .. ARGV[2]
local id = redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[5], '*', 'm', message)
redis.call('PUBLISH', ARGV[4], id .. '\n' .. message)
return 1
