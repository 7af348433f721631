// JSON patch (RFC 6902) as kube-apiserver applies it, and the Content-Type dispatch of PATCH.
// Expected results and messages were checked against upstream's library (`kubectl patch --local
// --type json` runs the same evanphx/json-patch v4 code).
import type { ConfigMap, Pod } from 'kubernetes-types/core/v1.js';
import { applyPatch, JSON_PATCH, patchTypeOf } from '../../server/patch/index.js';
import { failure } from '../support/errors.js';

const CONFIGMAP = { group: '', version: 'v1', kind: 'ConfigMap' };
const POD = { group: '', version: 'v1', kind: 'Pod' };

const configMap = (): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { a: '1' }, annotations: { 'a/b': '1', 'c~d': '2' } }, data: { a: '1', b: '2' } });
const pod = (): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
  spec: { containers: [{ name: 'a', image: 'x', args: ['1', '2', '3'] }, { name: 'b', image: 'y' }] },
});

const jsonPatch = <T extends object>(original: T, ops: unknown, schema = CONFIGMAP): T =>
  applyPatch(JSON_PATCH, original, typeof ops === 'string' ? ops : JSON.stringify(ops), schema);


describe('operations', () => {
  test('add, remove, replace with escaped keys', () => {
    const out = jsonPatch(configMap(), [
      { op: 'add', path: '/metadata/labels/b', value: '2' },
      { op: 'remove', path: '/metadata/annotations/a~1b' },
      { op: 'replace', path: '/metadata/annotations/c~0d', value: '3' },
    ]);
    expect(out.metadata).toEqual({ name: 'c', labels: { a: '1', b: '2' }, annotations: { 'c~d': '3' } });
  });

  test('test guards a change (optimistic updates)', () => {
    const out = jsonPatch(configMap(), [{ op: 'test', path: '/data/a', value: '1' }, { op: 'replace', path: '/data/a', value: '9' }]);
    expect(out.data).toEqual({ a: '9', b: '2' });
  });

  test('kubectl rollout undo: replace /spec/template and /metadata/annotations', () => {
    const out = jsonPatch(pod(), [
      { op: 'replace', path: '/spec', value: { containers: [{ name: 'q', image: 'q' }] } },
      { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '1' } },
    ], POD);
    expect(out.spec).toEqual({ containers: [{ name: 'q', image: 'q' }] });
    expect(out.metadata!.annotations).toEqual({ 'deployment.kubernetes.io/revision': '1' });
  });

  test('arrays: insert at an index, append with -, negative indices count from the end', () => {
    const args = (ops: unknown) => jsonPatch(pod(), ops, POD).spec!.containers[0].args;
    expect(args([{ op: 'add', path: '/spec/containers/0/args/1', value: 'x' }])).toEqual(['1', 'x', '2', '3']);
    expect(args([{ op: 'add', path: '/spec/containers/0/args/-', value: 'x' }])).toEqual(['1', '2', '3', 'x']);
    expect(args([{ op: 'add', path: '/spec/containers/0/args/-1', value: 'x' }])).toEqual(['1', '2', '3', 'x']);
    expect(args([{ op: 'remove', path: '/spec/containers/0/args/-1' }])).toEqual(['1', '2']);
    expect(jsonPatch(pod(), [{ op: 'replace', path: '/spec/containers/-1/image', value: 'z' }], POD).spec!.containers[1].image).toBe('z');
  });

  test('move and copy', () => {
    expect(jsonPatch(configMap(), [{ op: 'move', from: '/data/a', path: '/data/c' }]).data).toEqual({ b: '2', c: '1' });
    const copied = jsonPatch(pod(), [{ op: 'copy', from: '/spec/containers/0', path: '/spec/containers/-' }], POD);
    expect(copied.spec!.containers.map((c) => c.name)).toEqual(['a', 'b', 'a']);
    copied.spec!.containers[2].args!.push('4');
    expect(copied.spec!.containers[0].args).toEqual(['1', '2', '3']);
  });

  test('upstream quirks: replace of a missing key adds it; test for null passes on a missing key; add without value adds null', () => {
    expect(jsonPatch(configMap(), [{ op: 'replace', path: '/metadata/labels/new', value: 'v' }]).metadata!.labels).toEqual({ a: '1', new: 'v' });
    expect(jsonPatch(configMap(), [{ op: 'test', path: '/data/zz', value: null }, { op: 'add', path: '/data/zz', value: 'z' }]).data).toEqual({ a: '1', b: '2', zz: 'z' });
    expect(jsonPatch(configMap(), [{ op: 'add', path: '/data/x' }]).data).toEqual({ a: '1', b: '2', x: null });
  });

  test('does not modify the original', () => {
    const original = configMap();
    jsonPatch(original, [{ op: 'remove', path: '/data' }]);
    expect(original).toEqual(configMap());
  });
});

describe('failed operations: 422 with the library message as the cause', () => {
  test.each([
    ['test failed', [{ op: 'test', path: '/data/a', value: '2' }], 'testing value /data/a failed: test failed'],
    ['test of the whole document', [{ op: 'test', path: '', value: { a: 1 } }], 'testing value  failed: test failed'],
    ['test under a missing parent', [{ op: 'test', path: '/nope/zz', value: 1 }], 'test operation does not apply: is missing path: /nope/zz: missing value'],
    ['remove of a missing key', [{ op: 'remove', path: '/metadata/labels/nope' }], "error in remove for path: '/metadata/labels/nope': Unable to remove nonexistent key: nope: missing value"],
    ['remove under a missing parent', [{ op: 'remove', path: '/metadata/nope/x' }], 'remove operation does not apply: doc is missing path: "/metadata/nope/x": missing value'],
    ['add under a missing parent', [{ op: 'add', path: '/metadata/nope/x', value: 1 }], 'add operation does not apply: doc is missing path: "/metadata/nope/x": missing value'],
    ['add under a scalar', [{ op: 'add', path: '/data/a/x', value: 1 }], 'add operation does not apply: doc is missing path: "/data/a/x": missing value'],
    ['add at the root', [{ op: 'add', path: '', value: {} }], 'add operation does not apply: doc is missing path: "": missing value'],
    ['replace under a missing parent', [{ op: 'replace', path: '/metadata/nope/x', value: 1 }], 'replace operation does not apply: doc is missing path: /metadata/nope/x: missing value'],
    ['move from a missing key', [{ op: 'move', from: '/data/q', path: '/data/c' }], "error in move for path: 'q': Unable to remove nonexistent key: q: missing value"],
    ['move to a missing parent', [{ op: 'move', from: '/data/a', path: '/nope/c' }], 'move operation does not apply: doc is missing destination path: /nope/c: missing value'],
    ['an unknown op', [{ op: 'frob', path: '/data/a' }], 'Unexpected kind: frob'],
    ['no op', [{ path: '/data/a' }], 'Unexpected kind: unknown'],
    ['add without a path', [{ op: 'add', value: 1 }], 'add operation failed to decode path: missing value'],
    ['replace without a path', [{ op: 'replace', value: 1 }], 'replace operation failed to decode path: operation missing path field: missing value'],
    ['move without from', [{ op: 'move', path: '/data/x' }], 'move operation failed to decode from: operation, missing from field: missing value'],
  ])('%s', (_name, ops, cause) => {
    const e = failure(() => jsonPatch(configMap(), ops));
    expect([e.code, e.reason, e.message]).toEqual([422, 'Invalid', 'the server rejected our request due to an error in our request']);
    expect(e.details).toEqual({ causes: [{ reason: 'UnexpectedServerResponse', message: cause }] });
  });

  test.each([
    ['add past the end', { op: 'add', path: '/spec/containers/0/args/9', value: 'x' }, "error in add for path: '/spec/containers/0/args/9': Unable to access invalid index: 9: invalid index referenced"],
    ['add at a non-numeric index', { op: 'add', path: '/spec/containers/0/args/x', value: 'x' },
      "error in add for path: '/spec/containers/0/args/x': value was not a proper array index: 'x': strconv.Atoi: parsing \"x\": invalid syntax"],
    ['remove past the end', { op: 'remove', path: '/spec/containers/0/args/5' }, "error in remove for path: '/spec/containers/0/args/5': Unable to access invalid index: 5: invalid index referenced"],
    ['replace past the end', { op: 'replace', path: '/spec/containers/0/args/5', value: 'x' }, 'replace operation does not apply: doc is missing key: /spec/containers/0/args/5: missing value'],
  ])('arrays: %s', (_name, op, cause) => {
    const e = failure(() => jsonPatch(pod(), [op], POD));
    expect(e.details!.causes![0].message).toBe(cause);
  });

  test('a failing operation aborts the whole patch', () => {
    const original = configMap();
    failure(() => jsonPatch(original, [{ op: 'add', path: '/data/c', value: '3' }, { op: 'test', path: '/data/a', value: 'nope' }]));
    expect(original.data).toEqual({ a: '1', b: '2' });
  });

  test('__proto__ paths are refused', () => {
    expect(failure(() => jsonPatch(configMap(), [{ op: 'add', path: '/metadata/__proto__/x', value: 1 }])).code).toBe(422);
  });

  test('more than 10000 operations: 413', () => {
    const ops = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/data/a', value: '1' }));
    const e = failure(() => jsonPatch(configMap(), ops));
    expect([e.code, e.reason, e.message]).toEqual([413, 'RequestEntityTooLarge', 'The allowed maximum operations in a JSON patch is 10000, got 10001']);
  });
});

describe('malformed JSON patch bodies: 400', () => {
  test.each([
    ['not JSON', '[{"op":"add",}]', "error decoding patch: invalid character '}' looking for beginning of object key string"],
    ['truncated', '[{"op":"add"', 'error decoding patch: unexpected end of JSON input'],
    ['an object instead of a list', '{"op":"add"}', 'error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp'],
    ['a list of strings', '["add"]', 'error decoding patch: json: cannot unmarshal string into Go value of type handlers.jsonPatchOp'],
    ['a numeric path', '[{"op":"add","path":5}]', 'error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.path of type string'],
  ])('%s', (_name, body, message) => {
    const e = failure(() => jsonPatch(configMap(), body));
    expect([e.code, e.reason, e.message]).toEqual([400, 'BadRequest', message]);
  });

  test('with fieldValidation=Ignore the library decodes the body itself', () => {
    const e = failure(() => applyPatch(JSON_PATCH, configMap(), '{"op":"add"}', CONFIGMAP, { fieldValidation: 'Ignore' }));
    expect(e.message).toBe('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  });

  test('a Buffer body works like a string', () => {
    const out = applyPatch(JSON_PATCH, configMap(), Buffer.from('[{"op":"add","path":"/data/c","value":"3"}]'), CONFIGMAP);
    expect(out.data).toEqual({ a: '1', b: '2', c: '3' });
  });
});

describe('Content-Type dispatch', () => {
  test('parameters are ignored', () => {
    expect(patchTypeOf('application/merge-patch+json; charset=utf-8')).toBe('application/merge-patch+json');
    const out = applyPatch('application/merge-patch+json; charset=utf-8', configMap(), '{"data":{"a":null}}', CONFIGMAP);
    expect(out.data).toEqual({ b: '2' });
  });

  test('an unknown type: 415 listing the accepted patch types', () => {
    const e = failure(() => applyPatch('application/json', configMap(), '{}', CONFIGMAP));
    expect([e.code, e.reason, e.message]).toEqual([415, 'UnsupportedMediaType',
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json']);
  });

  test('server-side apply is not served yet: 415', () => {
    expect(failure(() => applyPatch('application/apply-patch+yaml', configMap(), '{}', CONFIGMAP)).code).toBe(415);
  });

  test('kinds without a schema (custom resources) take no strategic merge patch, as upstream', () => {
    const widget = { group: 'example.com', version: 'v1', kind: 'Widget' };
    const e = failure(() => applyPatch('application/strategic-merge-patch+json', { spec: {} }, '{}', widget));
    expect(e.message).toBe('the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json');
    expect(applyPatch('application/merge-patch+json', { spec: { a: 1 } }, '{"spec":{"b":2}}', widget)).toEqual({ spec: { a: 1, b: 2 } });
  });
});
