// What a pod's containers need from the API before the runtime can start them (upstream's
// kubelet secret/configmap managers, the projected token manager and the service env lookup):
// the config maps and secrets its volumes and env name, service-account tokens for projected
// volumes, the root CA, its claims' volumes, and the namespace's services. The agent reads
// them as its node, which the Node authorizer allows only for pods bound to it.
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Service, ServiceList } from 'kubernetes-types/core/v1.js';
import type { TokenRequest } from 'kubernetes-types/authentication/v1.js';
import { logger } from '../apimachinery/log.js';
import { isNotFound, type ApiClient } from './api.js';
import type { EnvResolver } from './runtime/env.js';
import { PV_HOST_PATH_KEY, type VolumeSources } from './runtime/types.js';

const log = logger('pod-sources');

/** Re-read objects at least this often, so mounted config follows updates within a minute. */
const REFRESH_MS = 30_000;
/** A projected token is renewed once this share of its lifetime has passed (upstream: 80 %). */
const TOKEN_RENEW_AT = 0.8;

interface Cached<T> { value: T | undefined; at: number }

const decode = (data: Record<string, string> | undefined): Record<string, Buffer> =>
  Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));

const configMapData = (cm: ConfigMap): Record<string, Buffer> => ({
  ...Object.fromEntries(Object.entries(cm.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'utf8')])),
  ...decode(cm.binaryData),
});

const asText = (data: Record<string, Buffer>): Record<string, string> => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.toString('utf8')]));

export class PodSourceResolver {
  private readonly objects = new Map<string, Cached<Record<string, Buffer>>>();
  private readonly tokens = new Map<string, { token: string; renewAt: number; expiresAt: number }>();
  private readonly claims = new Map<string, string | undefined>();
  private readonly services = new Map<string, Record<string, string>>();

  constructor(private readonly api: ApiClient) {}

  /** What the pod's volumes refer to, fresh to within REFRESH_MS (every sync needs it). */
  async volumes(pod: Pod): Promise<VolumeSources> {
    const ns = pod.metadata?.namespace ?? '';
    const volumes: VolumeSources = new Map();
    for (const v of pod.spec?.volumes ?? []) {
      if (v.configMap) {
        const data = await this.configMap(ns, v.configMap.name ?? '');
        if (data) volumes.set(v.name, data);
      } else if (v.secret) {
        const data = await this.secret(ns, v.secret.secretName ?? '');
        if (data) volumes.set(v.name, data);
      } else if (v.projected) {
        const entry: Record<string, Buffer> = {};
        for (const s of v.projected.sources ?? []) {
          if (s.configMap) for (const [k, b] of Object.entries((await this.configMap(ns, s.configMap.name ?? '')) ?? {})) entry[`configMap/${s.configMap.name}/${k}`] = b;
          if (s.secret) for (const [k, b] of Object.entries((await this.secret(ns, s.secret.name ?? '')) ?? {})) entry[`secret/${s.secret.name}/${k}`] = b;
          if (s.serviceAccountToken) {
            const token = await this.token(pod, s.serviceAccountToken.audience, s.serviceAccountToken.expirationSeconds ?? 3600);
            entry[`serviceAccountToken/${s.serviceAccountToken.path}`] = Buffer.from(token);
          }
        }
        volumes.set(v.name, entry);
      } else if (v.persistentVolumeClaim) {
        const path = await this.claimPath(ns, v.persistentVolumeClaim.claimName);
        if (path) volumes.set(v.name, { [PV_HOST_PATH_KEY]: Buffer.from(path) });
      }
    }
    return volumes;
  }

  /**
   * What the containers' env refers to, read when containers start (only then is env needed):
   * the config maps and secrets they name and the namespace's services, listed fresh so a
   * Service created just before the pod is in its environment, as upstream.
   */
  async env(pod: Pod): Promise<EnvResolver> {
    const ns = pod.metadata?.namespace ?? '';
    // Env lookups are synchronous for the runtime: read everything the containers name now.
    const names = { configMaps: new Set<string>(), secrets: new Set<string>() };
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      for (const e of c.env ?? []) {
        if (e.valueFrom?.configMapKeyRef?.name) names.configMaps.add(e.valueFrom.configMapKeyRef.name);
        if (e.valueFrom?.secretKeyRef?.name) names.secrets.add(e.valueFrom.secretKeyRef.name);
      }
      for (const f of c.envFrom ?? []) {
        if (f.configMapRef?.name) names.configMaps.add(f.configMapRef.name);
        if (f.secretRef?.name) names.secrets.add(f.secretRef.name);
      }
    }
    const configMaps = new Map<string, Record<string, string>>();
    const secrets = new Map<string, Record<string, string>>();
    for (const n of names.configMaps) {
      const d = await this.configMap(ns, n);
      if (d) configMaps.set(n, asText(d));
    }
    for (const n of names.secrets) {
      const d = await this.secret(ns, n);
      if (d) secrets.set(n, asText(d));
    }
    const serviceEnv = pod.spec?.enableServiceLinks === false ? {} : await this.serviceEnv(ns);
    return {
      configMap: (_ns, name) => configMaps.get(name),
      secret: (_ns, name) => secrets.get(name),
      serviceEnv: () => serviceEnv,
      hostIP: pod.status?.hostIP,
    };
  }

  /** Drops what was cached for a pod that is gone. */
  forget(pod: Pod): void {
    this.tokens.delete(pod.metadata?.uid ?? '');
  }

  private async cached(key: string, read: () => Promise<Record<string, Buffer> | undefined>): Promise<Record<string, Buffer> | undefined> {
    const hit = this.objects.get(key);
    if (hit && Date.now() - hit.at < REFRESH_MS) return hit.value;
    let value: Record<string, Buffer> | undefined;
    try {
      value = await read();
    } catch (err) {
      // The API is unreachable: a pod whose container crashes while the control plane is down
      // must still restart, so the last copy read stands in (upstream's managers serve their
      // cache). It is refreshed on the next sync that reaches the API.
      if (hit) {
        log.v(2, 'API unreachable; using the last copy read', { object: key, error: (err as Error).message });
        return hit.value;
      }
      throw err;
    }
    this.objects.set(key, { value, at: Date.now() });
    return value;
  }

  private configMap(ns: string, name: string): Promise<Record<string, Buffer> | undefined> {
    return this.cached(`cm/${ns}/${name}`, async () => {
      const cm = await this.api.get<ConfigMap>(`/api/v1/namespaces/${ns}/configmaps/${name}`).catch(missing);
      return cm ? configMapData(cm) : undefined;
    });
  }

  private secret(ns: string, name: string): Promise<Record<string, Buffer> | undefined> {
    return this.cached(`secret/${ns}/${name}`, async () => {
      const s = await this.api.get<Secret>(`/api/v1/namespaces/${ns}/secrets/${name}`).catch(missing);
      return s ? { ...decode(s.data), ...Object.fromEntries(Object.entries(s.stringData ?? {}).map(([k, v]) => [k, Buffer.from(v)])) } : undefined;
    });
  }

  /** A token bound to the pod (upstream's projected serviceAccountToken), renewed at 80 % of its life. */
  private async token(pod: Pod, audience: string | undefined, expirationSeconds: number): Promise<string> {
    const key = `${pod.metadata?.uid}/${audience ?? ''}/${expirationSeconds}`;
    const have = this.tokens.get(key);
    if (have && Date.now() < have.renewAt) return have.token;
    try {
      return await this.requestToken(pod, key, audience, expirationSeconds);
    } catch (err) {
      // Renewal starts at 80 % of the token's life: while the API is down the current token
      // stays valid until it expires, as upstream's token manager keeps serving it.
      if (have && Date.now() < have.expiresAt) {
        log.v(2, 'cannot renew a service account token; keeping the current one', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, error: (err as Error).message });
        return have.token;
      }
      throw err;
    }
  }

  private async requestToken(pod: Pod, key: string, audience: string | undefined, expirationSeconds: number): Promise<string> {
    const ns = pod.metadata?.namespace ?? '';
    const account = pod.spec?.serviceAccountName || 'default';
    const request: TokenRequest = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: audience ? [audience] : [],
        expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name, uid: pod.metadata?.uid },
      },
    };
    const answer = await this.api.create<TokenRequest>(`/api/v1/namespaces/${ns}/serviceaccounts/${account}/token`, request);
    const token = answer.status?.token ?? '';
    const issued = Date.now();
    this.tokens.set(key, { token, renewAt: issued + expirationSeconds * 1000 * TOKEN_RENEW_AT, expiresAt: issued + expirationSeconds * 1000 });
    return token;
  }

  private async claimPath(ns: string, claimName: string): Promise<string | undefined> {
    const key = `${ns}/${claimName}`;
    try {
      const path = await this.readClaimPath(ns, claimName);
      this.claims.set(key, path);
      return path;
    } catch (err) {
      // A bound claim's volume does not move: the path read before serves while the API is down.
      if (this.claims.get(key) !== undefined) return this.claims.get(key);
      throw err;
    }
  }

  private async readClaimPath(ns: string, claimName: string): Promise<string | undefined> {
    const claim = await this.api.get<PersistentVolumeClaim>(`/api/v1/namespaces/${ns}/persistentvolumeclaims/${claimName}`).catch(missing);
    const volumeName = claim?.spec?.volumeName;
    if (!volumeName) return undefined;
    const pv = await this.api.get<PersistentVolume>(`/api/v1/persistentvolumes/${volumeName}`).catch(missing);
    return pv?.spec?.hostPath?.path ?? pv?.spec?.local?.path;
  }

  /** upstream's getServiceEnvVarMap: FOO_SERVICE_HOST/PORT and the docker-links style variables. */
  private async serviceEnv(ns: string): Promise<Record<string, string>> {
    let list: ServiceList;
    try {
      list = await this.api.get<ServiceList>(`/api/v1/namespaces/${ns}/services`);
    } catch (err) {
      // A container restarted while the API is down gets the services last read, not none
      // (which would silently change its environment between restarts).
      const last = this.services.get(ns);
      if (last) return last;
      log.warn('cannot list services for the environment of a container', { namespace: ns, error: (err as Error).message });
      return {};
    }
    const env: Record<string, string> = {};
    for (const svc of list.items ?? []) addServiceEnv(env, svc);
    this.services.set(ns, env);
    return env;
  }
}

function missing(err: unknown): undefined {
  if (isNotFound(err)) return undefined;
  throw err;
}

function addServiceEnv(env: Record<string, string>, svc: Service): void {
  const ip = svc.spec?.clusterIP;
  if (!ip || ip === 'None') return;
  const name = (svc.metadata?.name ?? '').toUpperCase().replace(/-/g, '_');
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0) return;
  env[`${name}_SERVICE_HOST`] = ip;
  env[`${name}_SERVICE_PORT`] = String(ports[0].port);
  for (const p of ports) {
    if (p.name) env[`${name}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`] = String(p.port);
  }
  const first = ports[0];
  const proto = (first.protocol ?? 'TCP').toLowerCase();
  env[`${name}_PORT`] = `${proto}://${ip}:${first.port}`;
  for (const p of ports) {
    const pr = (p.protocol ?? 'TCP');
    const prefix = `${name}_PORT_${p.port}_${pr}`;
    env[prefix] = `${pr.toLowerCase()}://${ip}:${p.port}`;
    env[`${prefix}_PROTO`] = pr.toLowerCase();
    env[`${prefix}_PORT`] = String(p.port);
    env[`${prefix}_ADDR`] = ip;
  }
}
