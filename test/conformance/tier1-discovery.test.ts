// Tier 1 of the conformance subset: connect and discover.
import { apiRequest, kubeConfig, kubectl } from './framework.js';
import * as k8s from '@kubernetes/client-node';

test('[sig-api-machinery] server version should find the server version', async () => {
  const info = await kubeConfig().makeApiClient(k8s.VersionApi).getCode();
  expect(info.major).toMatch(/^\d+$/);
  expect(info.minor).toMatch(/^\d+\+?$/);
  expect(Number.parseInt(info.minor, 10)).toBeGreaterThan(0);
});

test('[sig-cli] Kubectl client Kubectl api-versions should check if v1 is in available api versions', async () => {
  const r = await kubectl(['api-versions']);
  expect(r.code).toBe(0);
  expect(r.stdout.split('\n')).toContain('v1');
});

interface GroupVersionForDiscovery { groupVersion: string; version: string }
interface ApiGroup { name: string; versions: GroupVersionForDiscovery[]; preferredVersion?: GroupVersionForDiscovery }
interface ApiResourceList { kind?: string; groupVersion: string; resources: { name: string }[] }

/** GET an absolute path on the API server, as upstream's Discovery().RESTClient().Get().AbsPath(). */
async function getRaw<T>(path: string): Promise<T> {
  const { status, body } = await apiRequest('GET', path);
  if (status !== 200) throw new Error(`GET ${path} failed (${status}): ${body}`);
  return JSON.parse(body) as T;
}

// Upstream's table names one resource per group; the subset's scope is apps/v1, batch/v1 and
// networking.k8s.io/v1 (plus core/v1), so those rows are checked, the rest of the groups by the
// generic rule (groupVersion matches, at least one resource).
const VALID_RESOURCES: Record<string, string> = {
  'apps/v1': 'deployments',
  'batch/v1': 'jobs',
  'networking.k8s.io/v1': 'ingresses',
};

test('[sig-api-machinery] Discovery should locate the groupVersion and a resource within each APIGroup', async () => {
  const list = await getRaw<{ kind: string; groups: ApiGroup[] }>('/apis');
  expect(list.kind).toBe('APIGroupList');
  expect(list.groups.length).toBeGreaterThan(0);
  const served = list.groups.flatMap((g) => g.versions.map((v) => v.groupVersion));
  // The groups a cluster serving apps/v1, batch/v1 and networking.k8s.io/v1 must have.
  for (const gv of ['apps/v1', 'batch/v1', 'networking.k8s.io/v1']) expect(served).toContain(gv);
  for (const group of list.groups) {
    expect(group.versions.length).toBeGreaterThan(0);
    for (const version of group.versions) {
      expect(version.groupVersion).toBe(`${group.name}/${version.version}`);
      const resourceList = await getRaw<ApiResourceList>(`/apis/${version.groupVersion}`);
      expect(resourceList.kind).toBe('APIResourceList');
      expect(resourceList.groupVersion).toBe(version.groupVersion);
      expect(resourceList.resources.length).toBeGreaterThan(0);
      const expected = VALID_RESOURCES[version.groupVersion];
      if (expected) expect(resourceList.resources.map((r) => r.name)).toContain(expected);
    }
  }
  // The core group resolves the same way.
  const coreList = await getRaw<ApiResourceList>('/api/v1');
  expect(coreList.groupVersion).toBe('v1');
  expect(coreList.resources.map((r) => r.name)).toEqual(expect.arrayContaining(['pods', 'namespaces', 'configmaps']));
});

test('[sig-api-machinery] Discovery should validate PreferredVersion for each APIGroup', async () => {
  const list = await getRaw<{ groups: ApiGroup[] }>('/apis/');
  expect(list.groups.length).toBeGreaterThan(0);
  for (const group of list.groups) {
    if (group.name.endsWith('.example.com')) continue;
    const checkGroup = await getRaw<ApiGroup & { kind: string }>(`/apis/${group.name}/`);
    expect(checkGroup.kind).toBe('APIGroup');
    expect(checkGroup.name).toBe(group.name);
    expect(checkGroup.versions.length).toBeGreaterThan(0);
    expect(checkGroup.preferredVersion?.groupVersion).toBeTruthy();
    const match = checkGroup.versions.some((v) => v.groupVersion === checkGroup.preferredVersion?.groupVersion);
    expect(match).toBe(true);
    // The advertised preferred version is actually served.
    const resources = await getRaw<ApiResourceList>(`/apis/${checkGroup.preferredVersion!.groupVersion}`);
    expect(resources.groupVersion).toBe(checkGroup.preferredVersion!.groupVersion);
  }
});

test('[sig-cli] Kubectl client Kubectl version should check is all data is printed', async () => {
  const r = await kubectl(['version']);
  expect(r.code).toBe(0);
  for (const item of ['Client Version: ', 'Server Version: ']) {
    const oldMatched = new RegExp(`${item}version\\.Info\\{Major:"\\d", Minor:"\\d+\\+?", GitVersion:"v\\d\\.\\d+\\.[\\d\\w\\-\\.\\+]+", GitCommit:"[0-9a-f]+"`).test(r.stdout);
    const newMatched = new RegExp(`${item}v\\d\\.\\d+\\.[\\d\\w\\-\\.\\+]+`).test(r.stdout);
    expect({ item, matched: oldMatched || newMatched, output: r.stdout }).toMatchObject({ item, matched: true });
  }
});
