// Tier 1 of the conformance subset: connect and discover.
import { kubeConfig, kubectl } from './framework.js';
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
