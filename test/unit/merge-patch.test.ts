// JSON merge patch (RFC 7386) with the bodies kubectl label, annotate and scale send. Results were
// checked against upstream's library (`kubectl patch --local --type merge`).
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import { applyPatch, MERGE_PATCH } from '../../server/patch/index.js';
import { failure } from '../support/errors.js';

const DEPLOYMENT = { group: 'apps', version: 'v1', kind: 'Deployment' };

const deployment = (): Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' }, annotations: { note: 'x' } },
  spec: {
    replicas: 2, selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] } },
  },
});

const merge = <T extends object>(original: T, patch: unknown): T => applyPatch(MERGE_PATCH, original, typeof patch === 'string' ? patch : JSON.stringify(patch), DEPLOYMENT);


test('kubectl label / label-: sets and removes labels', () => {
  expect(merge(deployment(), { metadata: { labels: { env: 'prod' } } }).metadata!.labels).toEqual({ app: 'web', env: 'prod' });
  expect(merge(deployment(), { metadata: { labels: { app: null } } }).metadata!.labels).toEqual({});
});

test('kubectl annotate', () => {
  expect(merge(deployment(), { metadata: { annotations: { owner: 'me' } } }).metadata!.annotations).toEqual({ note: 'x', owner: 'me' });
});

test('kubectl scale (on /scale) changes spec.replicas only', () => {
  const out = merge(deployment(), { spec: { replicas: 6 } });
  expect(out).toEqual({ ...deployment(), spec: { ...deployment().spec!, replicas: 6 } });
});

test('lists are replaced whole; nulls inside new objects are pruned, null list elements kept', () => {
  const out = merge(deployment(), { spec: { template: { spec: { containers: [{ name: 'z', image: null, x: { y: null, z: 1 } }, null] } } } });
  expect(out.spec!.template.spec!.containers).toEqual([{ name: 'z', x: { z: 1 } }, null]);
});

test('an object replaces a scalar (its nulls pruned) and a scalar replaces an object', () => {
  expect(merge(deployment(), { spec: { replicas: { n: null, m: 1 } } }).spec!.replicas).toEqual({ m: 1 });
  expect(merge(deployment(), { spec: { selector: 'x' } }).spec!.selector).toBe('x');
});

test('does not modify the original', () => {
  const original = deployment();
  merge(original, { metadata: { labels: null } });
  expect(original).toEqual(deployment());
});

test('malformed bodies: 400 as upstream words them', () => {
  expect(failure(() => merge(deployment(), '{"metadata":')).message).toBe('error decoding patch: unexpected end of JSON input');
  expect(failure(() => merge(deployment(), '[1]')).message).toBe('error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}');
  expect(failure(() => merge(deployment(), 'null')).message).toBe('Invalid JSON Patch');
  const ignore = failure(() => applyPatch(MERGE_PATCH, deployment(), '{', DEPLOYMENT, { fieldValidation: 'Ignore' }));
  expect([ignore.code, ignore.reason, ignore.message]).toEqual([400, 'BadRequest', 'Invalid JSON Patch']);
});
