// Controller framework pieces without a server: the work queue, expectations, the garbage
// collector's and namespace deleter's decisions.
import { jest } from '@jest/globals';
import { ControllerExpectations, EXPECTATIONS_TTL_MS, UIDTrackingExpectations } from '../../controllers/framework/expectations.js';
import { WorkQueue } from '../../controllers/framework/workqueue.js';
import { decideForDependent } from '../../controllers/garbage-collector.js';
import { deletableResources, namespaceConditions } from '../../controllers/namespace.js';

describe('WorkQueue', () => {
  test('dedupes, and never hands out a key being processed', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.len()).toBe(2);
    const k = await q.get();
    expect(k).toBe('a');
    q.add('a'); // re-added while processing: held back until done
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
    q.done('a');
    expect(await q.get()).toBe('a');
    q.shutDown();
    expect(await q.get()).toBeUndefined();
  });
  test('rate limiting backs off per key, 5 ms doubling; forget resets', () => {
    jest.useFakeTimers();
    try {
      const q = new WorkQueue();
      q.addRateLimited('k');
      q.addRateLimited('k');
      expect(q.numRequeues('k')).toBe(2);
      jest.advanceTimersByTime(4);
      expect(q.len()).toBe(0);
      jest.advanceTimersByTime(2);
      expect(q.len()).toBe(1);
      q.forget('k');
      expect(q.numRequeues('k')).toBe(0);
      q.shutDown();
    } finally {
      jest.useRealTimers();
    }
  });
});

test('expectations: satisfied once observed, or after the TTL', () => {
  let now = 0;
  const e = new ControllerExpectations(() => now);
  expect(e.satisfiedExpectations('k')).toBe(true);
  e.expectCreations('k', 2);
  expect(e.satisfiedExpectations('k')).toBe(false);
  e.creationObserved('k');
  e.creationObserved('k');
  expect(e.satisfiedExpectations('k')).toBe(true);
  e.expectDeletions('k', 1);
  now = EXPECTATIONS_TTL_MS + 1;
  expect(e.satisfiedExpectations('k')).toBe(true);
  const u = new UIDTrackingExpectations();
  u.expectDeletionsFor('k', ['ns/a', 'ns/b']);
  u.deletionObservedFor('k', 'ns/a');
  u.deletionObservedFor('k', 'ns/a'); // the same pod seen twice counts once
  expect(u.satisfiedExpectations('k')).toBe(false);
  u.deletionObservedFor('k', 'ns/b');
  expect(u.satisfiedExpectations('k')).toBe(true);
});

describe('garbage collector decisions', () => {
  const ref = (uid: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: uid, uid });
  test('a dependent with a live owner only loses references to gone owners', () => {
    expect(decideForDependent({}, [{ ref: ref('a'), state: 'solid' }], false)).toEqual({ action: 'none' });
    expect(decideForDependent({}, [{ ref: ref('a'), state: 'solid' }, { ref: ref('b'), state: 'dangling' }], false)).toEqual({ action: 'removeOwnerRefs', uids: ['b'] });
  });
  test('a dependent whose owners are all gone is deleted with its own policy', () => {
    expect(decideForDependent({}, [{ ref: ref('a'), state: 'dangling' }], false)).toEqual({ action: 'delete', propagationPolicy: 'Background' });
    expect(decideForDependent({ finalizers: ['orphan'] }, [{ ref: ref('a'), state: 'dangling' }], false)).toEqual({ action: 'delete', propagationPolicy: 'Orphan' });
    expect(decideForDependent({}, [{ ref: ref('a'), state: 'waitingForDependentsDeletion' }], true)).toEqual({ action: 'delete', propagationPolicy: 'Foreground' });
  });
});

test('namespace deletion: what is deleted and the conditions', () => {
  const r = (resource: string, namespaced: boolean, verbs: string[]) => ({ group: '', version: 'v1', resource, kind: resource, namespaced, verbs });
  expect(deletableResources([r('pods', true, ['list', 'delete', 'deletecollection']), r('nodes', false, ['list', 'delete']), r('bindings', true, ['create'])]).map((x) => x.resource)).toEqual(['pods']);
  const conds = namespaceConditions({ resources: new Map([['pods.', 2]]), finalizers: new Map(), errors: [] }, []);
  expect(conds.find((c) => c.type === 'NamespaceContentRemaining')).toMatchObject({ status: 'True', reason: 'SomeResourcesRemain', message: 'Some resources are remaining: pods. has 2 resource instances' });
  expect(conds.find((c) => c.type === 'NamespaceFinalizersRemaining')).toMatchObject({ status: 'False', reason: 'ContentHasNoFinalizers' });
});
