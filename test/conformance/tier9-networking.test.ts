// Tier 9 of the conformance subset: the API server's proxy, cluster DNS, pod networking and the
// guestbook, re-stated from upstream's test/e2e/network/{proxy,dns,networking}.go and
// test/e2e/kubectl/kubectl.go. agnhost's netexec/porter/guestbook are replaced with busybox
// (httpd, nc, CGI scripts) serving the same answers.
import type * as k8s from '@kubernetes/client-node';
import { IMAGE, apiRequest, core, kubectl, useTestNamespace, waitFor, waitForPodReady, waitForPodPhase } from './framework.js';

const ns = useTestNamespace('net');


async function exec(namespace: string, pod: string, command: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(['exec', '-n', namespace, pod, '--', ...command], { timeoutMs: 60_000 });
}

function pod(name: string, labels: Record<string, string>, script: string, extra: Partial<k8s.V1Container> = {}): k8s.V1Pod {
  return {
    metadata: { name, labels },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], ...extra }] },
  };
}

// agnhost's netexec echo for any path: {"Method": <method>, "Body": <body>} (the upstream test's jsonResponse).
const ECHO_HANDLER = [
  'read m p v',
  'while read l; do l=$(printf %s "$l" | tr -d "\\r"); [ -z "$l" ] && break; done',
  'b="{\\"Method\\":\\"$m\\",\\"Body\\":\\"\\"}"',
  'printf "HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %s\\r\\nConnection: close\\r\\n\\r\\n%s" ${#b} "$b"',
].join('\n');

test('[sig-network] Proxy version v1 A set of valid responses are returned for both pod and service ProxyWithPath', async () => {
  const namespace = ns.name;
  const labels = { test: 'response' };
  const script = `cat > /h.sh <<'EOF'\n${ECHO_HANDLER}\nEOF\nchmod +x /h.sh\nexec nc -ll -p 80 -e /h.sh`;
  await core().createNamespacedPod({ namespace, body: pod('agnhost', labels, script, { ports: [{ containerPort: 80 }], readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 1 } }) });
  await core().createNamespacedService({ namespace, body: { metadata: { name: 'test-service', labels }, spec: { selector: labels, ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] } } });
  await waitForPodReady(namespace, 'agnhost');
  await waitFor('test-service endpoints', async () => (await core().readNamespacedEndpoints({ namespace, name: 'test-service' })).subsets?.[0]?.addresses?.length === 1, 60_000);

  for (const base of [`/api/v1/namespaces/${namespace}/pods/agnhost/proxy`, `/api/v1/namespaces/${namespace}/services/test-service/proxy`]) {
    for (const verb of ['DELETE', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'GET', 'HEAD']) {
      const path = `${base}/some/path/with/${verb}`;
      const r = await waitFor(`${verb} ${path} answering 200`, async () => {
        const res = await apiRequest(verb, path);
        return res.status === 200 ? res : undefined;
      }, 30_000, 500);
      if (verb === 'HEAD') continue;
      const json = JSON.parse(r.body) as { Method: string; Body: string };
      expect(json.Method).toBe(verb);
    }
  }
});

interface Lookup { ok: boolean; addresses: string[]; output: string }

/** busybox nslookup in `podName`; the addresses (or SRV/PTR answers) given for the name. */
async function nslookup(namespace: string, podName: string, name: string, type?: string): Promise<Lookup> {
  const r = await exec(namespace, podName, type ? ['nslookup', `-type=${type}`, name] : ['nslookup', name]);
  const output = r.stdout + r.stderr;
  const answers = output.split('\n\n').slice(1).join('\n');
  const addresses = [...answers.matchAll(/^Address:\s*(\S+)/gm)].map((m) => m[1]);
  return { ok: r.code === 0 && !/NXDOMAIN|can't find|SERVFAIL|timed out/i.test(output), addresses, output };
}

/**
 * A name looked up through the pod's resolver with its resolv.conf search path (upstream's
 * `dig +search`; busybox nslookup does not search): ping prints the address it resolved.
 */
async function resolveSearch(namespace: string, podName: string, name: string): Promise<string | undefined> {
  const r = await exec(namespace, podName, ['ping', '-c', '1', '-W', '1', name]);
  return /PING \S+ \((\d+\.\d+\.\d+\.\d+)\)/.exec(r.stdout + r.stderr)?.[1];
}

/** FQDNs through nslookup (the DNS server answering), shorter names through the search path. */
async function resolvesTo(namespace: string, podName: string, name: string, ip: string): Promise<boolean> {
  if (name.endsWith('.cluster.local')) {
    const l = await nslookup(namespace, podName, name);
    return l.ok && l.addresses.includes(ip);
  }
  return (await resolveSearch(namespace, podName, name)) === ip;
}

async function dnsPod(namespace: string, name: string, labels: Record<string, string> = {}): Promise<k8s.V1Pod> {
  await core().createNamespacedPod({ namespace, body: { ...pod(name, labels, 'exec sleep 3600'), spec: { ...pod(name, labels, 'exec sleep 3600').spec!, hostname: name } } });
  return waitForPodReady(namespace, name);
}

test('[sig-network] DNS should provide DNS for the cluster', async () => {
  const namespace = ns.name;
  const p = await dnsPod(namespace, 'dns-test-cluster');
  const kubernetes = await core().readNamespacedService({ namespace: 'default', name: 'kubernetes' });
  const podIP = p.status!.podIP!;
  const podARecord = `${podIP.replace(/\./g, '-')}.${namespace}.pod.cluster.local`;
  const expectations: [string, string][] = [
    ['kubernetes.default', kubernetes.spec!.clusterIP!],
    ['kubernetes.default.svc', kubernetes.spec!.clusterIP!],
    ['kubernetes.default.svc.cluster.local', kubernetes.spec!.clusterIP!],
    [podARecord, podIP],
  ];
  for (const [name, ip] of expectations) {
    await waitFor(`${name} to resolve to ${ip}`, () => resolvesTo(namespace, p.metadata!.name!, name, ip), 60_000, 1000);
  }
});

test('[sig-network] DNS should provide DNS for services', async () => {
  const namespace = ns.name;
  const selector = { 'dns-test': 'true' };
  await core().createNamespacedService({ namespace, body: { metadata: { name: 'dns-test-service' }, spec: { clusterIP: 'None', selector, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }] } } });
  const regular = await core().createNamespacedService({ namespace, body: { metadata: { name: 'test-service-2' }, spec: { selector, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }] } } });
  const p = await dnsPod(namespace, 'dns-test-svc', selector);
  const podName = p.metadata!.name!;
  const podIP = p.status!.podIP!;
  const clusterIP = regular.spec!.clusterIP!;

  // A records: the headless service names its ready endpoints (this pod), by short and longer names.
  for (const name of ['dns-test-service', `dns-test-service.${namespace}`, `dns-test-service.${namespace}.svc`, `dns-test-service.${namespace}.svc.cluster.local`]) {
    await waitFor(`${name} to resolve to ${podIP}`, () => resolvesTo(namespace, podName, name, podIP), 60_000, 1000);
  }
  for (const name of ['test-service-2', `test-service-2.${namespace}.svc.cluster.local`]) {
    await waitFor(`${name} to resolve to ${clusterIP}`, () => resolvesTo(namespace, podName, name, clusterIP), 60_000, 1000);
  }
  // SRV records for the named port, of the headless and the regular service.
  for (const svc of ['dns-test-service', 'test-service-2']) {
    const name = `_http._tcp.${svc}.${namespace}.svc.cluster.local`;
    const l = await waitFor(`SRV ${name}`, async () => {
      const r = await nslookup(namespace, podName, name, 'SRV');
      return r.ok && /service = \d+ \d+ 80 \S+/.test(r.output) ? r : undefined;
    }, 60_000, 1000);
    expect(l.output).toMatch(new RegExp(`service = \\d+ \\d+ 80 \\S*${svc === 'dns-test-service' ? '' : 'test-service-2'}`));
  }
  // PTR record of the regular service's ClusterIP.
  const ptr = await waitFor(`PTR of ${clusterIP}`, async () => {
    const r = await exec(namespace, podName, ['nslookup', clusterIP]);
    return r.code === 0 && r.stdout.includes(`test-service-2.${namespace}.svc.cluster.local`) ? r : undefined;
  }, 60_000, 1000);
  expect(ptr.stdout).toContain(`name = test-service-2.${namespace}.svc.cluster.local`);
});

test('[sig-network] Networking Granular Checks: Pods should function for intra-pod communication: http', async () => {
  const namespace = ns.name;
  // netserver pods answer /hostname on 8083 (agnhost netexec); a test pod dials each of them.
  const netservers = ['netserver-0', 'netserver-1'];
  const serve = 'mkdir -p /w && hostname > /w/hostname && exec httpd -f -p 8083 -h /w';
  for (const name of netservers) {
    await core().createNamespacedPod({ namespace, body: pod(name, { selector: 'netserver' }, serve, { ports: [{ name: 'http', containerPort: 8083 }], readinessProbe: { httpGet: { path: '/hostname', port: 8083 }, periodSeconds: 1 } }) });
  }
  await core().createNamespacedPod({ namespace, body: pod('test-container-pod', {}, serve, { ports: [{ containerPort: 8083 }] }) });
  const ips: Record<string, string> = {};
  for (const name of netservers) ips[name] = (await waitForPodReady(namespace, name)).status!.podIP!;
  await waitForPodPhase(namespace, 'test-container-pod', ['Running']);

  for (const name of netservers) {
    const answer = await waitFor(`test-container-pod to reach ${name} at ${ips[name]}:8083`, async () => {
      const r = await exec(namespace, 'test-container-pod', ['timeout', '10', 'wget', '-q', '-O', '-', `http://${ips[name]}:8083/hostname`]);
      return r.code === 0 ? r.stdout.trim() : undefined;
    }, 60_000, 1000);
    expect(answer).toBe(name);
  }
});

// ---- Guestbook ----

// The 3 tiers of upstream's guestbook (agnhost-primary, agnhost-replica, frontend), as busybox
// httpd CGI scripts: the primary stores, the replicas serve reads from the primary, the
// frontend writes to the primary and reads through the replicas.
const STORE = `#!/bin/sh
echo "Content-Type: application/json"
echo ""
q() { echo "$QUERY_STRING" | tr '&' '\\n' | sed -n "s/^$1=//p"; }
cmd=$(q cmd); key=$(q key); value=$(q value)
mkdir -p /tmp/data
case "$cmd" in
  set) printf %s "$value" > "/tmp/data/$key"; echo '{"message": "Updated"}' ;;
  get) printf '{"data": "%s"}\\n' "$(cat "/tmp/data/$key" 2>/dev/null)" ;;
  *) echo '{"error": "unknown cmd"}' ;;
esac
`;
const REPLICA = `#!/bin/sh
echo "Content-Type: application/json"
echo ""
timeout 10 wget -q -O - "http://agnhost-primary:6379/cgi-bin/store?$QUERY_STRING"
`;
const FRONTEND = `#!/bin/sh
echo "Content-Type: application/json"
echo ""
case "$QUERY_STRING" in
  *cmd=set*) timeout 10 wget -q -O - "http://agnhost-primary:6379/cgi-bin/store?$QUERY_STRING" ;;
  *) timeout 10 wget -q -O - "http://agnhost-replica:6379/cgi-bin/store?$QUERY_STRING" ;;
esac
`;

function tier(name: string, replicas: number, port: number, cgiName: string, cgi: string): string {
  const labels = { app: 'guestbook', tier: name };
  const start = `mkdir -p /w/cgi-bin && printf '%s' "$CGI" > /w/cgi-bin/${cgiName} && chmod +x /w/cgi-bin/${cgiName} && exec httpd -f -p ${port} -h /w`;
  const deployment = {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas, selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{
            name: 'main', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', start], env: [{ name: 'CGI', value: cgi }],
            ports: [{ containerPort: port }], readinessProbe: { tcpSocket: { port }, periodSeconds: 1 },
          }],
        },
      },
    },
  };
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name, labels }, spec: { selector: labels, ports: [{ port, targetPort: port }] } };
  return `${JSON.stringify(service)}\n${JSON.stringify(deployment)}\n`;
}

test('[sig-cli] Kubectl client Guestbook application should create and stop a working application', async () => {
  const namespace = ns.name;
  const manifests = [
    tier('agnhost-primary', 1, 6379, 'store', STORE),
    tier('agnhost-replica', 2, 6379, 'store', REPLICA),
    tier('frontend', 3, 80, 'guestbook', FRONTEND),
  ].join('');
  // creating all guestbook components (kubectl create -f, as upstream)
  const created = await kubectl(['create', '-n', namespace, '-f', '-'], { input: manifests });
  expect(created.code).toBe(0);
  for (const name of ['agnhost-primary', 'agnhost-replica', 'frontend']) expect(created.stdout).toContain(name);

  // validating guestbook app: all frontend pods are up
  await waitFor('3 frontend pods ready', async () => {
    const pods = (await core().listNamespacedPod({ namespace, labelSelector: 'app=guestbook,tier=frontend' })).items;
    return pods.length === 3 && pods.every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  }, 180_000, 1000);
  await core().createNamespacedPod({ namespace, body: pod('guestbook-client', {}, 'exec sleep 3600') });
  await waitForPodReady(namespace, 'guestbook-client');
  const guestbook = async (query: string): Promise<string | undefined> => {
    const r = await exec(namespace, 'guestbook-client', ['timeout', '10', 'wget', '-q', '-O', '-', `http://frontend/cgi-bin/guestbook?${query}`]);
    return r.code === 0 ? r.stdout.trim() : undefined;
  };
  // Trying to add a new entry to the guestbook, then verifying it is there.
  await waitFor('the frontend to answer an empty get', async () => (await guestbook('cmd=get&key=messages&value=')) === '{"data": ""}', 120_000, 1000);
  await waitFor('the frontend to store an entry', async () => (await guestbook('cmd=set&key=messages&value=TestEntry')) === '{"message": "Updated"}', 120_000, 1000);
  await waitFor('the entry read back through the frontend', async () => (await guestbook('cmd=get&key=messages&value=')) === '{"data": "TestEntry"}', 120_000, 1000);

  // using delete to clean up resources (kubectl delete --grace-period=0 --force -f)
  const deleted = await kubectl(['delete', '-n', namespace, '--grace-period=0', '--force', '-f', '-'], { input: manifests });
  expect(deleted.code).toBe(0);
  await waitFor('no guestbook services or deployments left', async () => {
    const r = await kubectl(['get', '-n', namespace, 'deployments,services', '-l', 'app=guestbook', '--no-headers']);
    return r.code === 0 && r.stdout.trim() === '';
  }, 60_000, 1000);
  await waitFor('no guestbook pods running', async () => {
    const pods = (await core().listNamespacedPod({ namespace, labelSelector: 'app=guestbook' })).items;
    return pods.every((p) => p.status?.phase !== 'Running' || !!p.metadata?.deletionTimestamp) && pods.length === 0;
  }, 120_000, 1000);
});
