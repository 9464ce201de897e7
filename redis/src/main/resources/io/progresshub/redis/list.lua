-- One page of jobs, newest first, with how many match in all: one snapshot.
-- KEYS: the index sets whose every member matches one filter (or the jobs index alone);
--       the smallest is walked and the others' filters checked per job.
-- ARGV: 1 offset, 2 limit, 3 status or '', 4 owner or '', 5 type or '',
--       6 id search text (lower case) or '', 7 key prefix
-- Returns {total, state...}.
local offset = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local prefix = ARGV[7]
local walk = KEYS[1]
local smallest = redis.call('ZCARD', walk)
for i = 2, #KEYS do
  local size = redis.call('ZCARD', KEYS[i])
  if size < smallest then
    walk = KEYS[i]
    smallest = size
  end
end
local page = {}
local total
if #KEYS == 1 and ARGV[6] == '' then
  -- One filter or none: the index answers alone, O(log N + limit).
  total = smallest
  page = redis.call('ZREVRANGE', walk, offset, offset + limit - 1)
else
  -- Several filters or a search: every member of the smallest index is checked, O(N).
  total = 0
  local members = redis.call('ZREVRANGE', walk, 0, -1)
  for _, member in ipairs(members) do
    local id = string.sub(member, 21)
    local match = ARGV[6] == '' or string.find(string.lower(id), ARGV[6], 1, true) ~= nil
    if match and #KEYS > 1 then
      local f = redis.call('HMGET', prefix .. 'job:' .. id, 'status', 'owner', 'type')
      match = (ARGV[3] == '' or f[1] == ARGV[3]) and (ARGV[4] == '' or f[2] == ARGV[4])
        and (ARGV[5] == '' or f[3] == ARGV[5])
    end
    if match then
      total = total + 1
      if total > offset and #page < limit then
        page[#page + 1] = member
      end
    end
  end
end
local result = {total}
for _, member in ipairs(page) do
  local state = redis.call('HGET', prefix .. 'job:' .. string.sub(member, 21), 'state')
  if state then
    result[#result + 1] = state
  end
end
return result
