// The pure parts of the Docker runtime: create options from a container spec (upstream's
// generateContainerConfig as dockershim mapped it), the managed hosts file and dockershim names.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { containerCreateOptions, milliCPUToShares } from '../../node-agent/runtime/docker/container-config.js';
import { hostsFileContent, podHostname } from '../../node-agent/runtime/docker/hosts-file.js';
import { normalizeImage, pullPolicy, reportedImageID } from '../../node-agent/runtime/docker/images.js';
import { containerHash, dockerName } from '../../node-agent/runtime/docker/labels.js';
import type { VolumeMount } from '../../node-agent/runtime/docker/volumes.js';

const pod = (spec: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  metadata: { name: 'web-0', namespace: 'ns', uid: 'u1' },
  spec: { containers: [{ name: 'c', image: 'busybox:1' }], ...spec },
});

describe('milliCPUToShares', () => {
  test.each([
    [0, 2],
    [1, 2],
    [100, 102],
    [250, 256],
    [1000, 1024],
    [300_000, 262144],
  ])('%i millicores → %i shares', (m, shares) => expect(milliCPUToShares(m)).toBe(shares));
});

describe('containerCreateOptions', () => {
  const volumes = new Map<string, VolumeMount>([
    ['data', { kind: 'bind', hostPath: '/var/data' }],
    ['cfg', { kind: 'bind', hostPath: '/var/cfg', readOnly: true }],
    ['mem', { kind: 'docker', volumeName: 'k8s_mem' }],
  ]);
  const base = { name: 'k8s_c_web-0_ns_u1_0', labels: { a: 'b' }, sandboxID: 'sb', volumes };

  test('command replaces ENTRYPOINT, args replaces CMD, both expanded with the env', () => {
    const p = pod();
    const o = containerCreateOptions({ ...base, pod: p, container: { name: 'c', image: 'i', command: ['sh', '-c'], args: ['echo $(X) $$(X)'] }, env: [{ name: 'X', value: 'x' }] });
    expect(o.Entrypoint).toEqual(['sh', '-c']);
    expect(o.Cmd).toEqual(['echo x $(X)']);
    const onlyArgs = containerCreateOptions({ ...base, pod: p, container: { name: 'c', image: 'i', args: ['a'] }, env: [] });
    expect(onlyArgs.Entrypoint).toBeUndefined(); // the image's ENTRYPOINT stays
    expect(onlyArgs.Cmd).toEqual(['a']);
  });

  test('namespaces, resources, security', () => {
    const p = pod({ shareProcessNamespace: true, securityContext: { runAsUser: 5, runAsGroup: 6, supplementalGroups: [7] } });
    const o = containerCreateOptions({
      ...base,
      pod: p,
      container: {
        name: 'c',
        image: 'i',
        workingDir: '/w',
        resources: { limits: { cpu: '1500m', memory: '32Mi' } },
        securityContext: { runAsUser: 9, readOnlyRootFilesystem: true, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] }, allowPrivilegeEscalation: false },
      },
      env: [{ name: 'A', value: '1' }],
    });
    expect(o.HostConfig).toMatchObject({
      NetworkMode: 'container:sb',
      IpcMode: 'container:sb',
      PidMode: 'container:sb',
      NanoCpus: 1_500_000_000,
      CpuShares: 1536, // no request: the limit is the request
      Memory: 32 * 1024 * 1024,
      Privileged: false,
      ReadonlyRootfs: true,
      CapAdd: ['NET_ADMIN'],
      CapDrop: ['ALL'],
      GroupAdd: ['7'],
      SecurityOpt: ['no-new-privileges'],
      RestartPolicy: { Name: 'no' },
    });
    expect(o.User).toBe('9:6');
    expect(o.WorkingDir).toBe('/w');
    expect(o.Env).toEqual(['A=1']);
    expect(o.Labels).toEqual({ a: 'b' });
  });

  test('mounts: bind, read-only volumes, subPath and subPathExpr, Docker volumes, the hosts file', () => {
    const o = containerCreateOptions({
      ...base,
      pod: pod(),
      container: {
        name: 'c',
        image: 'i',
        volumeMounts: [
          { name: 'data', mountPath: '/d' },
          { name: 'data', mountPath: '/s', subPath: 'x/y', readOnly: true },
          { name: 'data', mountPath: '/e', subPathExpr: 'logs/$(POD)' },
          { name: 'cfg', mountPath: '/cfg' },
          { name: 'mem', mountPath: '/m' },
        ],
      },
      env: [{ name: 'POD', value: 'web-0' }],
      hostsFile: '/var/pods/u1/etc-hosts',
    });
    expect(o.HostConfig!.Mounts).toEqual([
      { Type: 'bind', Source: '/var/data', Target: '/d', ReadOnly: false },
      { Type: 'bind', Source: '/var/data/x/y', Target: '/s', ReadOnly: true },
      { Type: 'bind', Source: '/var/data/logs/web-0', Target: '/e', ReadOnly: false },
      { Type: 'bind', Source: '/var/cfg', Target: '/cfg', ReadOnly: true },
      { Type: 'volume', Source: 'k8s_mem', Target: '/m', ReadOnly: false },
      { Type: 'bind', Source: '/var/pods/u1/etc-hosts', Target: '/etc/hosts', ReadOnly: false },
    ]);
    expect(() =>
      containerCreateOptions({ ...base, pod: pod(), container: { name: 'c', image: 'i', volumeMounts: [{ name: 'data', mountPath: '/x', subPath: '../etc' }] }, env: [] }),
    ).toThrow('invalid subPath');
    expect(() => containerCreateOptions({ ...base, pod: pod(), container: { name: 'c', image: 'i', volumeMounts: [{ name: 'nope', mountPath: '/x' }] }, env: [] })).toThrow('volume "nope" not found');
  });
});

describe('hosts file', () => {
  test('upstream layout with hostname, subdomain and hostAliases', () => {
    const p = pod({ hostname: 'h', subdomain: 'svc', hostAliases: [{ ip: '1.2.3.4', hostnames: ['a', 'b'] }] });
    expect(podHostname(p, 'cluster.local')).toEqual({ hostname: 'h', domain: 'svc.ns.svc.cluster.local' });
    expect(hostsFileContent(p, ['10.0.0.2'], 'cluster.local')).toBe(
      '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n' +
        '10.0.0.2\th.svc.ns.svc.cluster.local\th\n\n# Entries added by HostAliases.\n1.2.3.4\ta\tb\n',
    );
    expect(hostsFileContent(pod(), ['10.0.0.3'], 'cluster.local')).toMatch(/\n10\.0\.0\.3\tweb-0\n$/);
  });
});

describe('names, images', () => {
  test('dockershim container names and a stable spec hash', () => {
    expect(dockerName({ uid: 'u1', name: 'web-0', namespace: 'ns' }, 'POD', 0)).toBe('k8s_POD_web-0_ns_u1_0');
    expect(containerHash({ name: 'c', image: 'a' })).toBe(containerHash({ name: 'c', image: 'a' }));
    expect(containerHash({ name: 'c', image: 'a' })).not.toBe(containerHash({ name: 'c', image: 'b' }));
  });

  test('image references, default pull policy and reported image ids', () => {
    expect(normalizeImage('busybox')).toBe('busybox:latest');
    expect(normalizeImage('localhost:5000/x')).toBe('localhost:5000/x:latest');
    expect(normalizeImage('r/x:1')).toBe('r/x:1');
    expect(normalizeImage('x@sha256:ab')).toBe('x@sha256:ab');
    expect(pullPolicy({ name: 'c', image: 'x' })).toBe('Always');
    expect(pullPolicy({ name: 'c', image: 'x:1' })).toBe('IfNotPresent');
    expect(pullPolicy({ name: 'c', image: 'x:latest', imagePullPolicy: 'Never' })).toBe('Never');
    expect(reportedImageID({ Id: 'sha256:1', RepoDigests: [] }, 'sha256:1')).toBe('docker://sha256:1');
    expect(reportedImageID({ Id: 'sha256:1', RepoDigests: ['r/x@sha256:2'] }, 'sha256:1')).toBe('docker-pullable://r/x@sha256:2');
  });
});
