-- The current revision of one resource type and each object's key and revision, atomically:
-- what the watch-cache consistency checker digests (the revision identifies an object's content,
-- so the objects themselves need not cross the wire).
-- KEYS: 1 objects hash, 2 revision counter
local rev = redis.call('GET', KEYS[2]) or '0'
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  out[#out + 1] = all[i]
  out[#out + 1] = string.match(all[i + 1], '^(%d+) ')
end
return {rev, out}
