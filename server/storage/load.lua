-- A consistent snapshot of one resource type: its current revision and every object.
-- KEYS: 1 objects hash, 2 revision counter
local rev = redis.call('GET', KEYS[2]) or '0'
return {rev, redis.call('HGETALL', KEYS[1])}
