// Kubeconfig files with everything embedded (*-data fields), so the file can be
// copied to another machine or user without the pki directory next to it.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export interface KubeconfigParams {
  server: string;
  caCertPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  clusterName?: string;
  contextName?: string;
  userName?: string;
  namespace?: string;
}

const b64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');

export function buildKubeconfig(p: KubeconfigParams): string {
  const cluster = p.clusterName ?? 'podium';
  const context = p.contextName ?? 'podium';
  const user = p.userName ?? 'admin';
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: p.server, 'certificate-authority-data': b64(p.caCertPem) } }],
    contexts: [{ name: context, context: { cluster, user, ...(p.namespace ? { namespace: p.namespace } : {}) } }],
    'current-context': context,
    users: [{ name: user, user: { 'client-certificate-data': b64(p.clientCertPem), 'client-key-data': b64(p.clientKeyPem) } }],
    preferences: {},
  };
  // Long base64 strings stay on one line, as kubectl itself writes them.
  return stringify(doc, { lineWidth: 0 });
}

/**
 * Writes `content` to `path` (mode 0600: it holds a private key) unless the file already
 * has exactly that content. Returns whether it wrote. Leaving an identical file alone keeps
 * its mtime and any hard links intact; like k3s, a changed server URL or certificate
 * replaces the whole file.
 */
export async function writeKubeconfig(path: string, content: string): Promise<boolean> {
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing === content) return false;
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode: 0o600 });
  await rename(tmp, path);
  return true;
}
