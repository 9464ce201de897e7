-- Logs a lifecycle message and publishes it headed by its log id, as the store's scripts do: for a
-- broker that sends events itself (its store does not broadcast).
-- KEYS: 1 lifecycle log stream
-- ARGV: 1 lifecycle channel, 2 message, 3 lifecycle log length
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'm', ARGV[2])
return redis.call('PUBLISH', ARGV[1], id .. '\n' .. ARGV[2])
