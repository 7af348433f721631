// `podium kubeconfig --user NAME [--group G ...]`: a kubeconfig for another user of the
// cluster in DIR, with a client certificate signed by the cluster CA (CN = user, O = groups,
// as the API server reads them). What the user may do is then up to RBAC.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { issueClientCertificate } from '../server/pki.js';
import { buildKubeconfig, writeKubeconfig } from './kubeconfig.js';
import { UsageError, type KubeconfigFlags } from './flags.js';

export async function runUserKubeconfig(f: KubeconfigFlags): Promise<number> {
  const pkiDir = join(f.dataDir, 'pki');
  const caCertPem = await readFile(join(pkiDir, 'ca.crt'), 'utf8').catch(() => {
    throw new UsageError(`${f.dataDir} holds no cluster CA (run podium up first, or pass --data-dir)`);
  });
  const server = f.server ?? (await serverOfAdminKubeconfig(join(f.dataDir, 'kubeconfig')));
  const cert = await issueClientCertificate(pkiDir, f.user, f.groups);
  const kubeconfig = buildKubeconfig({ server, caCertPem, clientCertPem: cert.certPem, clientKeyPem: cert.keyPem, userName: f.user, contextName: `${f.user}@podium` });
  if (f.out) await writeKubeconfig(f.out, kubeconfig);
  else process.stdout.write(kubeconfig);
  return 0;
}

async function serverOfAdminKubeconfig(path: string): Promise<string> {
  const doc = parse(await readFile(path, 'utf8').catch(() => {
    throw new UsageError(`no ${path} to take the server URL from (pass --server)`);
  })) as { clusters?: { cluster?: { server?: string } }[] };
  const server = doc.clusters?.[0]?.cluster?.server;
  if (!server) throw new UsageError(`${path} names no server (pass --server)`);
  return server;
}
