// core/v1 definitions: defaults, upstream's validation messages, the pod STATUS/READY/RESTARTS
// cells, the service PORT(S) cell, and the events.k8s.io <-> core/v1 event conversion.
import { describe, expect, test } from '@jest/globals';
import type { Mutable } from '../../apimachinery/mutable.js';
import type { ConfigMap, Namespace, Node, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import type { Event as EventsEvent } from 'kubernetes-types/events/v1.js';
import type { KubeObject, ResourceDefinition } from '../../server/registry/types.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { coreResources } from '../../server/registry/core.js';
import pods, { podQOSClass } from '../../server/registry/pods.js';
import services from '../../server/registry/services.js';
import secrets from '../../server/registry/secrets.js';
import configmaps from '../../server/registry/configmaps.js';
import namespaces from '../../server/registry/namespaces.js';
import nodes from '../../server/registry/nodes.js';
import events from '../../server/registry/events.js';
import eventsV1 from '../../server/registry/events-events-k8s-io.js';
import endpoints from '../../server/registry/endpoints.js';
import resourcequotas from '../../server/registry/resourcequotas.js';
import { podStatusCells } from '../../server/registry/pod-status-printing.js';
import { validatePodTemplateSpec } from '../../server/registry/pod-spec.js';

type Obj<T> = T & KubeObject;

function create<T extends KubeObject>(def: ResourceDefinition<T>, obj: T): FieldError[] {
  def.strategy.defaults?.(obj);
  def.strategy.prepareForCreate?.(obj);
  return def.strategy.validate(obj);
}

const texts = (errs: FieldError[]) => errs.map((e) => (e.field ? `${e.field}: ${e.detail}` : e.detail));

const pod = (spec: Partial<NonNullable<Pod['spec']>> = {}, name = 'web'): Obj<Pod> =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { containers: [{ name: 'app', image: 'nginx' }], ...spec } }) as Obj<Pod>;

describe('registry table', () => {
  test('core resources in discovery order with upstream names', () => {
    expect(coreResources.map((d) => `${d.group || 'core'}/${d.plural}`)).toEqual([
      'core/configmaps', 'core/endpoints', 'core/events', 'core/limitranges', 'core/namespaces', 'core/nodes', 'core/persistentvolumeclaims',
      'core/persistentvolumes', 'core/pods', 'core/podtemplates', 'core/resourcequotas', 'core/secrets', 'core/serviceaccounts', 'core/services',
      'events.k8s.io/events',
    ]);
    const short = Object.fromEntries(coreResources.map((d) => [d.plural + (d.group ? `.${d.group}` : ''), d.shortNames ?? []]));
    expect(short).toMatchObject({ pods: ['po'], services: ['svc'], endpoints: ['ep'], configmaps: ['cm'], namespaces: ['ns'], nodes: ['no'], events: ['ev'], serviceaccounts: ['sa'], persistentvolumeclaims: ['pvc'], persistentvolumes: ['pv'], resourcequotas: ['quota'], limitranges: ['limits'] });
    expect(pods.categories).toEqual(['all']);
    expect(services.categories).toEqual(['all']);
    expect(events.conversion?.storageKey).toBe('core/events');
    expect(eventsV1.conversion?.storageKey).toBe('core/events');
    for (const d of coreResources) expect(d.table.columns[0].name).toBe(d.kind === 'Event' ? 'Last Seen' : 'Name');
  });
});

describe('pods', () => {
  test('defaults as upstream SetDefaults_Pod/PodSpec/Container', () => {
    const p = pod({
      containers: [
        { name: 'app', image: 'nginx', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1', memory: '1Gi' } }, livenessProbe: { httpGet: { port: 80 } }, env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] },
        { name: 'side', image: 'busybox:1.36' },
        { name: 'digest', image: 'busybox@sha256:abc' },
      ],
      volumes: [{ name: 'v' }, { name: 's', secret: { secretName: 's' } }],
    });
    expect(create(pods, p)).toEqual([]);
    const spec = p.spec!;
    expect(spec).toMatchObject({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', terminationGracePeriodSeconds: 30, securityContext: {}, enableServiceLinks: true, priority: 0 });
    const [app, side, digest] = spec.containers;
    expect(app).toMatchObject({ imagePullPolicy: 'Always', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' });
    expect(app.ports![0].protocol).toBe('TCP');
    expect(app.resources!.requests).toEqual({ cpu: '1', memory: '1Gi' });
    expect(app.livenessProbe).toMatchObject({ timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3, httpGet: { path: '/', scheme: 'HTTP', port: 80 } });
    expect(app.env![0].valueFrom!.fieldRef!.apiVersion).toBe('v1');
    expect(side.imagePullPolicy).toBe('IfNotPresent');
    expect(digest.imagePullPolicy).toBe('IfNotPresent');
    expect(spec.volumes).toEqual([{ name: 'v', emptyDir: {} }, { name: 's', secret: { secretName: 's', defaultMode: 420 } }]);
    // Only the first container has limits, so the pod is Burstable.
    expect(p.status).toEqual({ phase: 'Pending', qosClass: 'Burstable' });
  });

  test('QoS classes', () => {
    expect(podQOSClass(pod())).toBe('BestEffort');
    expect(podQOSClass(pod({ containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: '100m' } } }] }))).toBe('Burstable');
    expect(podQOSClass(pod({ containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } } }] }))).toBe('Burstable');
    expect(podQOSClass(pod({ containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '1', memory: '1Gi' } } }] }))).toBe('Guaranteed');
  });

  test('validation messages', () => {
    const p = pod({
      containers: [
        { name: 'App', image: '' },
        { name: 'b', image: 'x', ports: [{ containerPort: 70000, protocol: 'HTTP' }], volumeMounts: [{ name: 'missing', mountPath: '/m' }] },
        { name: 'b', image: 'x', env: [{ name: 'A=B' }] },
      ],
      restartPolicy: 'Sometimes',
    });
    expect(texts(create(pods, p))).toEqual([
      `spec.containers[0].name: Invalid value: "App": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      'spec.containers[0].image: Required value',
      'spec.containers[1].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.containers[1].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
      'spec.containers[1].volumeMounts[0].name: Not found: "missing"',
      `spec.containers[2].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`,
      'spec.containers[2].name: Duplicate value: "b"',
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ]);
    expect(texts(create(pods, pod({ containers: [] })))).toEqual(['spec.containers: Required value']);
    expect(texts(create(pods, pod({ volumes: [{ name: 'a', emptyDir: {} }, { name: 'a', emptyDir: {} }] })))).toEqual(['spec.volumes[1].name: Duplicate value: "a"']);
  });

  test('template validation reports template metadata at <path>.labels', () => {
    const errs = validatePodTemplateSpec({ metadata: { labels: { 'a b': 'x' } }, spec: { containers: [{ name: 'c', image: 'x', imagePullPolicy: 'Always', terminationMessagePolicy: 'File' }], restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30 } }, 'spec.template');
    expect(errs.map((e) => e.field)).toEqual(['spec.template.labels']);
  });

  test('host network: pods get hostPort = containerPort; templates may leave it unset', () => {
    const p = pod({ hostNetwork: true, containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 80 }] }] });
    expect(create(pods, p)).toEqual([]);
    expect(p.spec!.containers[0].ports![0].hostPort).toBe(80);
    const spec = { hostNetwork: true, restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30, containers: [{ name: 'a', image: 'x', imagePullPolicy: 'Always', terminationMessagePolicy: 'File', ports: [{ containerPort: 80, protocol: 'TCP' }] }] };
    expect(validatePodTemplateSpec({ spec }, 'spec.template')).toEqual([]);
    spec.containers[0].ports[0] = { containerPort: 80, protocol: 'TCP', hostPort: 81 } as typeof spec.containers[0]['ports'][0];
    expect(texts(validatePodTemplateSpec({ spec }, 'spec.template'))).toEqual(['spec.template.spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is true']);
  });

  test('spec is immutable except images, deadlines and added tolerations', () => {
    const old = pod();
    create(pods, old);
    const changed = structuredClone(old);
    changed.spec!.containers[0].image = 'nginx:2';
    changed.spec!.tolerations = [{ key: 'k', operator: 'Exists' }];
    expect(pods.strategy.validateUpdate!(changed, old)).toEqual([]);
    const bad = structuredClone(old);
    bad.spec!.restartPolicy = 'Never';
    const errs = pods.strategy.validateUpdate!(bad, old);
    expect(errs).toHaveLength(1);
    expect(errs[0].field).toBe('spec');
    expect(errs[0].detail).toMatch(/^Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`,`spec.initContainers\[\*\].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` \(only additions to existing tolerations\),`spec.terminationGracePeriodSeconds` \(allow it to be set to 1 if it was previously negative\)\n/);
  });

  test('grace period: unscheduled pods go at once', () => {
    const p = pod();
    create(pods, p);
    expect(pods.strategy.gracePeriodSeconds!(p, {})).toBe(0);
    p.spec!.nodeName = 'n1';
    expect(pods.strategy.gracePeriodSeconds!(p, {})).toBe(30);
    expect(pods.strategy.gracePeriodSeconds!(p, { gracePeriodSeconds: 5 })).toBe(5);
  });

  test('field selectors', () => {
    const p = pod({ nodeName: 'n1' });
    create(pods, p);
    expect(pods.fieldSelectors!['spec.nodeName'](p)).toBe('n1');
    expect(pods.fieldSelectors!['status.phase'](p)).toBe('Pending');
    expect(pods.fieldSelectors!['spec.hostNetwork'](p)).toBe('false');
  });
});

describe('pod STATUS column', () => {
  const now = Date.parse('2024-01-01T01:00:00Z');
  const withStatus = (status: Pod['status'], spec: Partial<NonNullable<Pod['spec']>> = {}, deleting = false): Pod => {
    const p = pod(spec) as Mutable<Pod>;
    p.status = status as Mutable<Pod['status']>;
    if (deleting) p.metadata!.deletionTimestamp = '2024-01-01T00:59:00Z';
    return p;
  };

  test('pending, creating, running', () => {
    expect(podStatusCells(withStatus({ phase: 'Pending' }), now)).toEqual({ ready: '0/1', status: 'Pending', restarts: '0' });
    expect(podStatusCells(withStatus({ phase: 'Pending', containerStatuses: [{ name: 'app', image: 'nginx', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] }), now).status).toBe('ContainerCreating');
    expect(podStatusCells(withStatus({ phase: 'Running', containerStatuses: [{ name: 'app', image: 'nginx', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] }), now)).toEqual({ ready: '1/1', status: 'Running', restarts: '0' });
  });

  test('crash loop with restarts and the time of the last one', () => {
    const s = podStatusCells(withStatus({
      phase: 'Running',
      containerStatuses: [{ name: 'app', image: 'nginx', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: '2024-01-01T00:55:00Z' } } }],
    }), now);
    expect(s).toEqual({ ready: '0/1', status: 'CrashLoopBackOff', restarts: '3 (5m ago)' });
  });

  test('completed, exit codes and signals', () => {
    const term = (t: { exitCode: number; reason?: string; signal?: number }) =>
      podStatusCells(withStatus({ phase: 'Failed', containerStatuses: [{ name: 'app', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: t } }] }), now).status;
    expect(term({ exitCode: 0, reason: 'Completed' })).toBe('Completed');
    expect(term({ exitCode: 2 })).toBe('ExitCode:2');
    expect(term({ exitCode: 137, signal: 9 })).toBe('Signal:9');
  });

  test('init containers', () => {
    const spec = { initContainers: [{ name: 'init', image: 'busybox' }] };
    const init = (state: NonNullable<Pod['status']>['initContainerStatuses']) => podStatusCells(withStatus({ phase: 'Pending', initContainerStatuses: state }, spec), now).status;
    expect(init([{ name: 'init', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { running: {} } }])).toBe('Init:0/1');
    expect(init([{ name: 'init', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }])).toBe('Init:ImagePullBackOff');
    expect(init([{ name: 'init', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error' } } }])).toBe('Init:Error');
  });

  test('terminating and wide cells', () => {
    expect(podStatusCells(withStatus({ phase: 'Running' }, {}, true), now).status).toBe('Terminating');
    expect(podStatusCells(withStatus({ phase: 'Succeeded' }, {}, true), now).status).toBe('Succeeded');
    const p = withStatus({ phase: 'Running', podIP: '10.0.0.5' }, { nodeName: 'n1' });
    const row = pods.table.row(p as Obj<Pod>);
    expect(row.slice(5)).toEqual(['10.0.0.5', 'n1', '<none>', '<none>']);
    expect(row).toHaveLength(pods.table.columns.length);
  });
});

describe('services', () => {
  const svc = (spec: Service['spec']): Obj<Service> => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec }) as Obj<Service>;

  test('defaults and an unallocated cluster IP validate', () => {
    const s = svc({ selector: { app: 'web' }, ports: [{ port: 80 }] });
    expect(create(services, s)).toEqual([]);
    expect(s.spec).toMatchObject({ type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] });
    expect(s.spec!.ports![0]).toEqual({ port: 80, protocol: 'TCP', targetPort: 80 });
    expect(s.spec!.externalTrafficPolicy).toBeUndefined();
    const np = svc({ type: 'NodePort', ports: [{ port: 80 }] });
    expect(create(services, np)).toEqual([]);
    expect(np.spec!.externalTrafficPolicy).toBe('Cluster');
  });

  test('validation messages', () => {
    expect(texts(create(services, svc({ ports: [{ port: 80 }, { port: 81 }] })))).toEqual(['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value']);
    expect(texts(create(services, svc({ ports: [{ port: 80, nodePort: 30080 }] })))).toEqual(["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]);
    expect(texts(create(services, svc({ type: 'ExternalName' })))).toEqual(['spec.externalName: Required value']);
    expect(create(services, svc({ clusterIP: 'None', selector: { app: 'x' } }))).toEqual([]);
  });

  test('PORT(S), CLUSTER-IP and EXTERNAL-IP cells', () => {
    const s = svc({ type: 'NodePort', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], selector: { b: '2', a: '1' } });
    expect(services.table.row(s).slice(1, 5)).toEqual(['NodePort', '10.96.0.10', '<none>', '80:30080/TCP,53/UDP']);
    expect(services.table.row(s)[6]).toBe('a=1,b=2');
    expect(services.table.row(svc({ type: 'ClusterIP' })).slice(2, 5)).toEqual(['<none>', '<none>', '<none>']);
    expect(services.table.row(svc({ type: 'LoadBalancer', ports: [{ port: 443, protocol: 'TCP' }] }))[3]).toBe('<pending>');
  });

  test('updates keep allocated values the client left out', () => {
    const old = svc({ type: 'NodePort', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, nodePort: 30080 }] });
    create(services, old);
    const next = svc({ type: 'NodePort', ports: [{ port: 80 }] });
    services.strategy.defaults!(next);
    services.strategy.prepareForUpdate!(next, old);
    expect(next.spec).toMatchObject({ clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'] });
    expect(next.spec!.ports![0].nodePort).toBe(30080);
    expect(services.strategy.validate(next)).toEqual([]);
  });
});

describe('secrets, configmaps, namespaces, nodes', () => {
  test('secret defaults and per-type keys', () => {
    const s = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, stringData: { a: 'hi' } } as Obj<Secret>;
    expect(create(secrets, s)).toEqual([]);
    expect(s).toMatchObject({ type: 'Opaque', data: { a: 'aGk=' } });
    expect(s.stringData).toBeUndefined();
    const tls = { metadata: { name: 't', namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': '' } } as Obj<Secret>;
    expect(texts(create(secrets, tls))).toEqual(['data[tls.key]: Required value']);
    const sa = { metadata: { name: 't', namespace: 'default' }, type: 'kubernetes.io/service-account-token' } as Obj<Secret>;
    expect(texts(create(secrets, sa))).toEqual(['metadata.annotations[kubernetes.io/service-account.name]: Required value']);
    expect(secrets.table.row(s).slice(1, 3)).toEqual(['Opaque', 1]);
  });

  test('configmap keys', () => {
    const cm = { metadata: { name: 'c', namespace: 'default' }, data: { 'a b': 'x', k: 'v' }, binaryData: { k: 'dg==' } } as Obj<ConfigMap>;
    expect(texts(create(configmaps, cm))).toEqual([
      `data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
      'data[k]: Invalid value: "k": duplicate of key present in binaryData',
      'binaryData[k]: Invalid value: "k": duplicate of key present in data',
    ]);
    expect(configmaps.table.row(cm)[1]).toBe(3);
  });

  test('namespace create and name rules', () => {
    const ns = { metadata: { name: 'team-a' } } as Obj<Namespace>;
    expect(create(namespaces, ns)).toEqual([]);
    expect(ns.spec).toEqual({ finalizers: ['kubernetes'] });
    expect(ns.status).toEqual({ phase: 'Active' });
    expect(ns.metadata!.labels).toEqual({ 'kubernetes.io/metadata.name': 'team-a' });
    // The generic store applies the kind's name rule: namespaces are DNS-1123 labels.
    expect(namespaces.nameValidator!('a.b')[0]).toMatch(/^a lowercase RFC 1123 label/);
    expect(namespaces.nameValidator!('team-a')).toEqual([]);
    expect(namespaces.table.row(ns).slice(0, 2)).toEqual(['team-a', 'Active']);
  });

  test('node STATUS and ROLES', () => {
    const node = {
      metadata: { name: 'n1', labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'worker' } },
      spec: { unschedulable: true },
      status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '172.18.0.2' }], nodeInfo: { kubeletVersion: 'v1.32.0' } },
    } as unknown as Obj<Node>;
    const row = nodes.table.row(node);
    expect([row[1], row[2], row[4], row[5], row[6], row[7]]).toEqual(['Ready,SchedulingDisabled', 'control-plane,worker', 'v1.32.0', '172.18.0.2', '<none>', '<unknown>']);
    expect(texts(nodes.strategy.validate({ metadata: { name: 'n' }, spec: { taints: [{ key: 'k', effect: 'Sometimes' }] } } as Obj<Node>))).toEqual([
      'metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
    ]);
  });
});

describe('events', () => {
  test('events.k8s.io <-> core/v1 conversion round-trips through core storage', () => {
    const e: Obj<EventsEvent> = {
      apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e1', namespace: 'default' }, eventTime: '2024-01-01T00:00:00.000000Z',
      note: 'pulled', reason: 'Pulled', regarding: { kind: 'Pod', name: 'web', namespace: 'default' }, reportingController: 'kubelet', reportingInstance: 'n1',
      action: 'Pull', type: 'Normal', series: { count: 2, lastObservedTime: '2024-01-01T00:01:00.000000Z' }, deprecatedCount: 0,
    } as Obj<EventsEvent>;
    expect(eventsV1.strategy.validate(e)).toEqual([]);
    const stored = eventsV1.conversion!.toStorage(e);
    expect(stored).toMatchObject({ apiVersion: 'v1', message: 'pulled', involvedObject: { kind: 'Pod', name: 'web' }, reportingComponent: 'kubelet', reportingInstance: 'n1', series: { count: 2 } });
    const back = eventsV1.conversion!.fromStorage(stored);
    expect(back).toMatchObject({ note: 'pulled', regarding: { name: 'web' }, reportingController: 'kubelet', eventTime: '2024-01-01T00:00:00.000000Z' });
    expect(eventsV1.fieldSelectors!['regarding.name'](back)).toBe('web');
  });

  test('strict validation for events.k8s.io, legacy for core/v1', () => {
    const e = { metadata: { name: 'e', namespace: 'default' }, eventTime: '2024-01-01T00:00:00.000000Z', type: 'Odd' } as Obj<EventsEvent>;
    expect(texts(eventsV1.strategy.validate(e))).toEqual(expect.arrayContaining(['reportingController: Required value', 'type: Invalid value: "": has invalid value: Odd']));
    const legacy = { metadata: { name: 'e', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'other' } } as Parameters<typeof events.strategy.validate>[0];
    expect(texts(events.strategy.validate(legacy))).toEqual(['involvedObject.namespace: Invalid value: "other": does not match event.namespace']);
  });

  test('LAST SEEN .. NAME cells', () => {
    const e = { metadata: { name: 'e1', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'web' }, reason: 'Started', message: ' go ', type: 'Normal', source: { component: 'kubelet', host: 'n1' }, count: 2, firstTimestamp: '2024-01-01T00:00:00Z', lastTimestamp: '2024-01-01T00:00:00Z' } as Parameters<typeof events.table.row>[0];
    const row = events.table.row(e);
    expect(row.slice(1)).toEqual(['Normal', 'Started', 'pod/web', '', 'kubelet, n1', 'go', row[7], 2, 'e1']);
  });
});

describe('endpoints and quotas', () => {
  test('ENDPOINTS cell', () => {
    const ep = { metadata: { name: 'web' }, subsets: [{ addresses: [{ ip: '10.1.0.1' }, { ip: '10.1.0.2' }], ports: [{ port: 80 }, { port: 443 }] }] } as Parameters<typeof endpoints.table.row>[0];
    expect(endpoints.table.row(ep)[1]).toBe('10.1.0.1:80,10.1.0.2:80,10.1.0.1:443 + 1 more...');
    expect(texts(create(endpoints, { metadata: { name: 'x', namespace: 'd' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }] }] } as Parameters<typeof endpoints.table.row>[0]))).toEqual([
      'subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    ]);
  });

  test('quota REQUEST and LIMIT cells', () => {
    const q = { metadata: { name: 'q' }, status: { hard: { pods: '10', 'limits.cpu': '2', 'requests.cpu': '1' }, used: { pods: '3' } } } as Parameters<typeof resourcequotas.table.row>[0];
    expect(resourcequotas.table.row(q).slice(1, 3)).toEqual(['pods: 3/10, requests.cpu: 0/1', 'limits.cpu: 0/2']);
    expect(texts(resourcequotas.strategy.validate({ metadata: { name: 'q' }, spec: { hard: { foo: '1' } } } as typeof q))).toEqual([
      'spec.hard[foo]: Invalid value: "foo": must be a standard resource type or fully qualified',
      'spec.hard[foo]: Invalid value: "foo": must be a standard resource for quota',
    ]);
  });
});
