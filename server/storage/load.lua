-- A consistent snapshot of one resource type: its current revision, every object, and how many
-- times Redis was found to have lost writes (the rollback counter).
-- KEYS: 1 objects hash, 2 revision counter, 3 rollback counter
-- ARGV: 1 revision floor: the counter is first raised to at least it (after Redis lost writes,
--       so revisions clients already hold are never handed out again)
local floor = tonumber(ARGV[1]) or 0
local rev = tonumber(redis.call('GET', KEYS[2]) or '0')
if rev < floor then
  rev = floor
  redis.call('SET', KEYS[2], rev)
  redis.call('INCR', KEYS[3])
end
return {tostring(rev), redis.call('HGETALL', KEYS[1]), redis.call('GET', KEYS[3]) or '0'}
