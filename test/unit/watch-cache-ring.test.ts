// The watch cache's event ring keeps recent history: at most the event window, and beyond the
// newest 100 events only the last five minutes. Older resumes fall back to the Redis stream.
import { jest } from '@jest/globals';
import { WatchCache } from '../../server/storage/watch-cache.js';
import type { StoredEvent } from '../../server/storage/redis-storage.js';

let rev = 0;
const modified = (n: number): StoredEvent[] =>
  Array.from({ length: n }, () => ({ rev: ++rev, type: 'MODIFIED' as const, key: 'ns/a', json: JSON.stringify({ metadata: { name: 'a', namespace: 'ns' }, data: { rev: String(rev) } }) }));

afterEach(() => jest.restoreAllMocks());

test('the ring holds at most the event window', () => {
  rev = 0;
  const cache = new WatchCache('core/configmaps', 50);
  cache.reset(0, new Map());
  cache.apply(modified(120));
  expect(cache.eventsSince(70)?.length).toBe(50);
  expect(cache.eventsSince(69)).toBeUndefined();
});

test('beyond the newest 100 events, events older than five minutes leave the ring', () => {
  rev = 0;
  let now = 1_000_000;
  jest.spyOn(Date, 'now').mockImplementation(() => now);
  const cache = new WatchCache('core/configmaps', 10_000);
  cache.reset(0, new Map());
  cache.apply(modified(300));
  expect(cache.eventsSince(0)?.length).toBe(300);
  now += 5 * 60_000 + 1;
  cache.apply(modified(1));
  // The 300 old ones are stale; the newest 100 (99 old, 1 new) stay.
  expect(cache.eventsSince(0)).toBeUndefined();
  expect(cache.eventsSince(201)?.map((e) => e.rev)).toEqual(Array.from({ length: 100 }, (_, i) => 202 + i));
  expect(cache.eventsSince(200)).toBeUndefined();
  // Fresh events are kept however many there are, up to the window.
  cache.apply(modified(500));
  expect(cache.eventsSince(301)?.length).toBe(500);
});
