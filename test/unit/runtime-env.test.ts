// env.ts: upstream's $(VAR) expansion rules and makeEnvironmentVariables ordering, with plain data.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ContainerConfigError, expand, expandCommand, fieldRefValue, makeEnvironment, mappingFor, resourceFieldRefValue } from '../../node-agent/runtime/env.js';

const vars = mappingFor(new Map([['VAR_A', 'A'], ['VAR_B', 'B'], ['VAR_C', 'C'], ['VAR_REF', '$(VAR_A)'], ['VAR_EMPTY', '']]));

describe('expand (upstream expansion_test cases)', () => {
  test.each([
    ['whole string', '$(VAR_A)', 'A'],
    ['repeat', '$(VAR_A)-$(VAR_A)', 'A-A'],
    ['beginning', '$(VAR_A)-1', 'A-1'],
    ['middle', '___$(VAR_B)___', '___B___'],
    ['end', '___$(VAR_C)', '___C'],
    ['compound', '$(VAR_A)_$(VAR_B)_$(VAR_C)', 'A_B_C'],
    ['escape & expand', '$$(VAR_B)_$(VAR_A)', '$(VAR_B)_A'],
    ['compound escape', '$$(VAR_A)_$$(VAR_B)', '$(VAR_A)_$(VAR_B)'],
    ['mixed in escapes', 'f000-$$VAR_A', 'f000-$VAR_A'],
    ['backslash escape ignored', 'foo\\$(VAR_C)bar', 'foo\\Cbar'],
    ['backslash escape ignored 2', 'foo\\\\$(VAR_C)bar', 'foo\\\\Cbar'],
    ['lots of backslashes', 'foo\\\\\\\\$(VAR_A)bar', 'foo\\\\\\\\Abar'],
    ['nested var references', '$(VAR_A$(VAR_B))', '$(VAR_A$(VAR_B))'],
    ['nested var references second type', '$(VAR_A$(VAR_B)', '$(VAR_A$(VAR_B)'],
    ['value is a reference', '$(VAR_REF)', '$(VAR_A)'],
    ['value is a reference x 2', '%%$(VAR_REF)--$(VAR_REF)%%', '%%$(VAR_A)--$(VAR_A)%%'],
    ['empty var', 'foo$(VAR_EMPTY)bar', 'foobar'],
    ['unterminated expression', 'foo$(VAR_Awhoops!', 'foo$(VAR_Awhoops!'],
    ['expression without operator', 'f00__(VAR_A)__', 'f00__(VAR_A)__'],
    ['shell special vars pass through', '$?_boo_$!', '$?_boo_$!'],
    ['bare operators are ignored', '$VAR_A', '$VAR_A'],
    ['undefined vars are passed through', '$(VAR_DNE)', '$(VAR_DNE)'],
    ['multiple (even) operators, var undefined', '$$$$$$(BIG_MONEY)', '$$$(BIG_MONEY)'],
    ['multiple (even) operators, var defined', '$$$$$$(VAR_A)', '$$$(VAR_A)'],
    ['multiple (odd) operators, var undefined', '$$$$$$$(GOOD_ODDS)', '$$$$(GOOD_ODDS)'],
    ['multiple (odd) operators, var defined', '$$$$$$$(VAR_A)', '$$$A'],
    ['missing open expression', '$VAR_A)', '$VAR_A)'],
    ['shell syntax ignored', '${VAR_A}', '${VAR_A}'],
    ['trailing incomplete expression not consumed', '$(VAR_B)_______$(A', 'B_______$(A'],
    ['trailing incomplete expression, no content, is not consumed', '$(VAR_C)_______$(', 'C_______$('],
    ['operator at end of input string is preserved', '$(VAR_A)foobarzab$', 'Afoobarzab$'],
    ['shell escaped incomplete expr', 'foo-\\$(VAR_A', 'foo-\\$(VAR_A'],
    ['lots of $( in middle', '--$($($($($--', '--$($($($($--'],
    ['lots of $( in beginning', '$($($($($--foo$(', '$($($($($--foo$('],
    ['lots of $( at end', 'foo0--$($($($(', 'foo0--$($($($('],
    ['escaped operators in variable names are not escaped', '$(foo$$var)', '$(foo$$var)'],
    ['newline not expanded', '\n', '\n'],
  ])('%s', (_name, input, want) => {
    expect(expand(input, vars)).toBe(want);
  });
});

const pod: Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u-1', labels: { b: '2', a: '1' }, annotations: { note: 'x"y' } },
  spec: {
    nodeName: 'n1',
    serviceAccountName: 'sa',
    containers: [{ name: 'c', image: 'i', resources: { limits: { memory: '128Mi' }, requests: { cpu: '250m', memory: '64Mi' } } }],
  },
  status: { podIP: '10.0.0.5', hostIP: '192.0.2.1' },
};

describe('downward API values', () => {
  test('fieldRef paths', () => {
    const f = (fieldPath: string) => fieldRefValue(pod, { fieldPath });
    expect(f('metadata.name')).toBe('p');
    expect(f('metadata.namespace')).toBe('ns');
    expect(f('metadata.uid')).toBe('u-1');
    expect(f("metadata.labels['a']")).toBe('1');
    expect(f("metadata.annotations['note']")).toBe('x"y');
    expect(f('metadata.labels')).toBe('a="1"\nb="2"');
    expect(f('metadata.annotations')).toBe('note="x\\"y"');
    expect(f('spec.nodeName')).toBe('n1');
    expect(f('spec.serviceAccountName')).toBe('sa');
    expect(f('status.podIP')).toBe('10.0.0.5');
    expect(f('status.hostIP')).toBe('192.0.2.1');
    expect(fieldRefValue(pod, { fieldPath: 'status.podIP' }, { podIP: '10.9.9.9' })).toBe('10.9.9.9');
    expect(() => f('spec.bogus')).toThrow(ContainerConfigError);
  });

  test('resourceFieldRef with divisors and the allocatable fallback', () => {
    expect(resourceFieldRefValue(pod, { resource: 'limits.memory', divisor: '1Mi' }, 'c')).toBe('128');
    expect(resourceFieldRefValue(pod, { resource: 'requests.memory' }, 'c')).toBe(String(64 * 1024 * 1024));
    expect(resourceFieldRefValue(pod, { resource: 'requests.cpu', divisor: '1m' }, 'c')).toBe('250');
    expect(resourceFieldRefValue(pod, { resource: 'requests.cpu' }, 'c')).toBe('1'); // ceil(0.25)
    expect(resourceFieldRefValue(pod, { resource: 'limits.cpu' }, 'c', { cpu: '4' })).toBe('4');
  });
});

describe('makeEnvironment', () => {
  const resolver = {
    configMap: (_ns: string, name: string) => (name === 'cm' ? { A: 'from-cm', '1bad': 'x', B: 'b' } : undefined),
    secret: (_ns: string, name: string) => (name === 's' ? { token: 't0k' } : undefined),
    serviceEnv: () => ({ SVC_HOST: '10.96.0.1', A: 'from-svc' }),
    podIP: '10.1.1.1',
  };

  test('order, precedence and expansion as upstream', () => {
    const env = makeEnvironment(
      pod,
      {
        name: 'c',
        envFrom: [{ configMapRef: { name: 'cm' } }, { secretRef: { name: 's' }, prefix: 'S_' }],
        env: [
          { name: 'B', value: 'env-b' },
          { name: 'REF', value: '$(A)/$(B)/$(SVC_HOST)/$(S_token)/$(LATER)' },
          { name: 'LATER', value: 'l' },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'NOEXPAND', valueFrom: { configMapKeyRef: { name: 'cm', key: 'A' } } },
        ],
      },
      resolver,
    );
    const m = Object.fromEntries(env.map((e) => [e.name, e.value]));
    expect(m).toEqual({
      A: 'from-cm', // envFrom wins over service env
      B: 'env-b',
      S_token: 't0k',
      REF: 'from-cm/env-b/10.96.0.1/t0k/$(LATER)',
      LATER: 'l',
      IP: '10.1.1.1',
      NOEXPAND: 'from-cm',
      SVC_HOST: '10.96.0.1',
    });
    expect(m).not.toHaveProperty('1bad');
  });

  test('enableServiceLinks false drops service variables', () => {
    const env = makeEnvironment({ ...pod, spec: { ...pod.spec!, enableServiceLinks: false } }, { name: 'c' }, resolver);
    expect(env).toEqual([]);
  });

  test('missing objects and keys: errors unless optional', () => {
    expect(() => makeEnvironment(pod, { name: 'c', envFrom: [{ configMapRef: { name: 'nope' } }] }, resolver)).toThrow('configmap "nope" not found');
    expect(makeEnvironment(pod, { name: 'c', envFrom: [{ configMapRef: { name: 'nope', optional: true } }] }, { ...resolver, serviceEnv: undefined })).toEqual([]);
    expect(() => makeEnvironment(pod, { name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }, resolver)).toThrow('couldn\'t find key k in Secret ns/s');
    const e = makeEnvironment(pod, { name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k', optional: true } } }] }, { ...resolver, serviceEnv: undefined });
    expect(e).toEqual([]);
  });

  test('command and args see the container environment', () => {
    expect(expandCommand(['echo', '$(A)', '$$(A)', '$(NONE)'], [{ name: 'A', value: 'x' }])).toEqual(['echo', 'x', '$(A)', '$(NONE)']);
    expect(expandCommand(undefined, [])).toBeUndefined();
  });
});
