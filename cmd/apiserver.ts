// `podium apiserver`: the API server on its own (what `podium up` runs as a child).
import { join } from 'node:path';
import { logger } from '../apimachinery/log.js';
import { startApiServer, type ApiServerOptions } from '../server/apiserver.js';
import { UsageError, type ApiServerFlags } from './flags.js';
import { watchParent } from './supervisor.js';

const log = logger('apiserver');
// Long enough for open watches and in-flight writes to finish, short enough to beat the supervisor's SIGKILL.
const CLOSE_TIMEOUT_MS = 10_000;

/** Runs until SIGTERM/SIGINT (or the supervising parent's death); resolves with the exit code. */
export async function runApiServer(f: ApiServerFlags): Promise<number> {
  const tls = await resolveTls(f);
  const options: ApiServerOptions = {
    port: f.port,
    bindAddress: f.bindAddress,
    advertiseAddress: f.advertiseAddress,
    defaultIngressClass: f.defaultIngressClass,
    redisUrl: f.redisUrl,
    ...tls,
    dataDir: f.dataDir,
    serviceClusterIpRange: f.serviceClusterIpRange,
    serviceNodePortRange: f.serviceNodePortRange,
    eventWindow: f.eventWindow,
    eventTtlMs: f.eventTtlMs,
    authorizationModes: f.authorizationModes,
    anonymousAuth: f.anonymousAuth,
    tokenAuthFile: f.tokenAuthFile,
    serviceAccountIssuer: f.serviceAccountIssuer,
    auditLogPath: f.auditLogPath,
    encryptionProviderConfig: f.encryptionProviderConfig,
    kubeletClientCertificate: f.kubeletClientCertificate,
    kubeletClientKey: f.kubeletClientKey,
    kubeletCertificateAuthority: f.kubeletCertificateAuthority,
    watchCacheConsistencyCheckIntervalMs: f.watchCacheConsistencyCheckIntervalMs,
    watchCacheConsistencyCheckAction: f.watchCacheConsistencyCheckAction,
  };
  log.v(1, 'starting', { ...options, redisUrl: undefined });
  const server = await startApiServer(options);
  log.info('api server listening', {
    url: `${tls.tlsCertFile ? 'https' : 'http'}://${hostForUrl(f.bindAddress)}:${server.port}`,
    clientCertificateAuth: Boolean(tls.clientCaFile),
  });

  return new Promise<number>((resolve) => {
    let closing = false;
    const shutdown = (why: string): void => {
      if (closing) return;
      closing = true;
      log.info('shutting down', { reason: why });
      const timer = setTimeout(() => {
        log.error('api server did not close in time', { timeoutMs: CLOSE_TIMEOUT_MS });
        resolve(1);
      }, CLOSE_TIMEOUT_MS);
      timer.unref();
      server.close().then(
        () => {
          clearTimeout(timer);
          resolve(0);
        },
        (err: Error) => {
          clearTimeout(timer);
          log.error('error while closing', { error: err.message });
          resolve(1);
        },
      );
    };
    // On demand: SIGUSR2 runs a consistency check round now (when the checker is on).
    if (server.checkConsistency) process.on('SIGUSR2', () => void server.checkConsistency?.());
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    watchParent(() => shutdown('supervising podium process exited'));
  });
}

/**
 * Explicit --tls-* flags win. Without them, --data-dir means "the cluster in DIR": its
 * pki (created on first use, like `up` would). With neither, the server speaks plain
 * HTTP, which only makes sense for tests on loopback.
 */
async function resolveTls(f: ApiServerFlags): Promise<Pick<ApiServerOptions, 'tlsCertFile' | 'tlsKeyFile' | 'clientCaFile'>> {
  if (f.tlsCertFile || f.tlsKeyFile) {
    if (!f.tlsCertFile || !f.tlsKeyFile) throw new UsageError('--tls-cert-file and --tls-private-key-file go together');
    if (!f.clientCaFile) log.warn('no --client-ca-file: client certificates will not authenticate anyone');
    return { tlsCertFile: f.tlsCertFile, tlsKeyFile: f.tlsKeyFile, clientCaFile: f.clientCaFile };
  }
  if (f.dataDir) {
    // Loaded only here: the PKI code brings the X.509 library, which `up` (passing files) never needs.
    const { ensurePki } = await import('../server/pki.js');
    const pki = await ensurePki(join(f.dataDir, 'pki'));
    if (pki.generated.length) log.info('generated certificates', { dir: pki.files.dir, generated: pki.generated });
    return { tlsCertFile: pki.files.servingCert, tlsKeyFile: pki.files.servingKey, clientCaFile: f.clientCaFile ?? pki.files.caCert };
  }
  log.warn('no --tls-cert-file and no --data-dir: serving plain HTTP');
  return { clientCaFile: f.clientCaFile };
}

function hostForUrl(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
