// The work queue's client-go metrics: adds counted once per key made dirty, depth and
// in-progress work read when scraped, durations observed as keys move through.
import { WorkQueue } from '../../controllers/framework/workqueue.js';
import { controllerManagerRegistry } from '../../controllers/framework/workqueue-metrics.js';

async function sample(name: string, queue: string): Promise<number | undefined> {
  const text = await controllerManagerRegistry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`name="${queue}"`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

test('adds, depth, retries and durations of a named queue', async () => {
  const q = new WorkQueue('unit-q');
  q.add('a');
  q.add('a'); // already queued: not an add
  q.add('b');
  expect(await sample('workqueue_adds_total', 'unit-q')).toBe(2);
  expect(await sample('workqueue_depth', 'unit-q')).toBe(2);

  const a = await q.get();
  expect(a).toBe('a');
  expect(await sample('workqueue_depth', 'unit-q')).toBe(1);
  expect(await sample('workqueue_queue_duration_seconds_count', 'unit-q')).toBe(1);
  await new Promise((r) => setTimeout(r, 20));
  expect(await sample('workqueue_longest_running_processor_seconds', 'unit-q')).toBeGreaterThanOrEqual(0.015);
  q.add('a'); // while processing: an add, queued again at done()
  q.done('a');
  expect(await sample('workqueue_adds_total', 'unit-q')).toBe(3);
  expect(await sample('workqueue_work_duration_seconds_count', 'unit-q')).toBe(1);
  expect(await sample('workqueue_depth', 'unit-q')).toBe(2);
  expect(await sample('workqueue_unfinished_work_seconds', 'unit-q')).toBe(0);

  q.addRateLimited('c');
  expect(await sample('workqueue_retries_total', 'unit-q')).toBe(1);
  expect([await q.get(), await q.get()].sort()).toEqual(['a', 'b']);
  expect(await q.get()).toBe('c'); // after its 5 ms backoff
  expect(await sample('workqueue_adds_total', 'unit-q')).toBe(4);
  q.shutDown();
});

test('a queue named late reports the adds it had before', async () => {
  const q = new WorkQueue();
  q.add('x');
  expect(await sample('workqueue_adds_total', 'unit-late')).toBeUndefined();
  q.metrics.setName('unit-late');
  expect(await sample('workqueue_adds_total', 'unit-late')).toBe(1);
  expect(await sample('workqueue_depth', 'unit-late')).toBe(1);
  q.shutDown();
});
