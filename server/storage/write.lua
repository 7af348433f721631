-- One write of one object, atomically: compare the expected revision, take the next revision
-- of this resource type, write the object and the name index, append the change event.
-- KEYS: 1 objects hash, 2 names zset, 3 revision counter, 4 event stream, 5 rollback counter
-- ARGV: 1 op (create|update|delete), 2 object key "ns/name", 3 expected revision ("" = none),
--       4 object JSON (for delete: the last state), 5 event window (max stream length),
--       6 revision floor: the highest revision the writing server has seen. Redis restarted
--         from an AOF without its last second of writes has a counter behind revisions clients
--         hold; the next revision then skips past the floor, so no revision is handed out twice,
--         and the rollback counter tells every API server its cache may hold writes Redis lost.
local current = redis.call('HGET', KEYS[1], ARGV[2])
local currentRev = nil
if current then currentRev = tonumber(string.match(current, '^(%d+) ')) end
local op = ARGV[1]
if op == 'create' then
  if current then return {'exists', tostring(currentRev)} end
else
  if not current then return {'missing', ''} end
  if ARGV[3] ~= '' and tonumber(ARGV[3]) ~= currentRev then return {'conflict', tostring(currentRev)} end
end
local rev = redis.call('INCR', KEYS[3])
local floor = tonumber(ARGV[6]) or 0
if rev <= floor then
  rev = floor + 1
  redis.call('SET', KEYS[3], rev)
  redis.call('INCR', KEYS[5])
end
local eventType
if op == 'delete' then
  redis.call('HDEL', KEYS[1], ARGV[2])
  redis.call('ZREM', KEYS[2], ARGV[2])
  eventType = 'DELETED'
else
  redis.call('HSET', KEYS[1], ARGV[2], rev .. ' ' .. ARGV[4])
  if op == 'create' then
    redis.call('ZADD', KEYS[2], 0, ARGV[2])
    eventType = 'ADDED'
  else
    eventType = 'MODIFIED'
  end
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[5], rev .. '-0', 't', eventType, 'k', ARGV[2], 'o', ARGV[4])
return {'ok', tostring(rev)}
