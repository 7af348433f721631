// A container's environment as upstream kubelet's makeEnvironmentVariables builds it, plus the
// downward API field and resource lookups it shares with downwardAPI volumes. Pure: everything
// that needs the API (config maps, secrets, services) comes in through an EnvResolver the caller
// has filled beforehand, so the rules can be unit-tested with plain objects.
import type { Container, EnvVar, ObjectFieldSelector, Pod, ResourceFieldSelector } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../server/registry/quantity.js';

/** What env resolution needs from outside the pod: looked up by the caller before the sync. */
export interface EnvResolver {
  /** A config map's data (binaryData decoded as UTF-8), or undefined when it does not exist. */
  configMap?(namespace: string, name: string): Record<string, string> | undefined;
  /** A secret's data, decoded, or undefined when it does not exist. */
  secret?(namespace: string, name: string): Record<string, string> | undefined;
  /** Docker-links style service variables (FOO_SERVICE_HOST, …) for the pod's namespace. */
  serviceEnv?(namespace: string): Record<string, string>;
  /** The node's allocatable, used by resourceFieldRef when the container sets no limit (upstream). */
  nodeAllocatable?: { cpu?: string; memory?: string; 'ephemeral-storage'?: string };
  /** status.hostIP when the pod object does not carry it yet. */
  hostIP?: string;
  /** status.podIP: the sandbox's IP, known to the runtime before the API has it. */
  podIP?: string;
}

/** The reason a container cannot be configured: becomes waiting.reason CreateContainerConfigError. */
export class ContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
}

// ---------------------------------------------------------------------------------------------
// $(VAR) expansion: upstream third_party/forked/golang/expansion. `$$` is an escaped `$`, `$(NAME)`
// is replaced when NAME is defined and left as written otherwise, and any other `$` stays.

const OPERATOR = '$';

/** Expands `$(VAR)` references in `input` with `lookup`; undefined keeps the reference verbatim. */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    // A trailing lone `$` is copied with the rest of the input.
    if (input[cursor] !== OPERATOR || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let advance = 1;
    if (next === OPERATOR) {
      out += OPERATOR; // `$$` → `$`
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close < 0) {
        out += '$('; // an unterminated reference is kept, its name is copied as plain text later
      } else {
        const name = input.slice(cursor + 2, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close - cursor;
      }
    } else {
      out += OPERATOR + next; // not a reference: the `$` and the character after it stay
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** Upstream MappingFuncFor: the first map that defines the name wins. */
export function mappingFor(...maps: ReadonlyMap<string, string>[]): (name: string) => string | undefined {
  return (name) => {
    for (const m of maps) if (m.has(name)) return m.get(name);
    return undefined;
  };
}

// ---------------------------------------------------------------------------------------------
// Downward API.

/** Labels or annotations the way downwardAPI volumes print a whole map: sorted `k="v"` lines. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k])}`)
    .join('\n');
}

/** A fieldRef value (upstream podFieldSelectorRuntimeValue + ExtractFieldPathAsString). */
export function fieldRefValue(pod: Pod, sel: ObjectFieldSelector, extra: { podIP?: string; hostIP?: string } = {}): string {
  const path = sel.fieldPath;
  const meta = pod.metadata ?? {};
  const sub = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (sub) return (sub[1] === 'labels' ? meta.labels : meta.annotations)?.[sub[2]] ?? '';
  switch (path) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return pod.status?.hostIP || extra.hostIP || '';
    case 'status.hostIPs':
      return (pod.status?.hostIPs?.map((i) => i.ip) ?? [pod.status?.hostIP || extra.hostIP || '']).filter(Boolean).join(',');
    case 'status.podIP':
      return extra.podIP || pod.status?.podIP || '';
    case 'status.podIPs':
      return extra.podIP || pod.status?.podIPs?.map((i) => i.ip).join(',') || pod.status?.podIP || '';
    default:
      throw new ContainerConfigError(`unsupported fieldRef fieldPath ${JSON.stringify(path)}`);
  }
}

/**
 * A resourceFieldRef value (upstream ExtractContainerResourceValue): CPU rounds up to whole
 * divisor units, other resources too; an unset limit falls back to the node's allocatable.
 */
export function resourceFieldRefValue(pod: Pod, sel: ResourceFieldSelector, containerName: string | undefined, allocatable: EnvResolver['nodeAllocatable'] = {}): string {
  const name = sel.containerName || containerName;
  const c = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === name);
  if (!c) throw new ContainerConfigError(`resourceFieldRef: container ${JSON.stringify(name)} not found`);
  const [kind, resource] = sel.resource.split('.', 2) as [string, string];
  const res = resource === 'cpu' || resource === 'memory' || resource === 'ephemeral-storage' ? resource : undefined;
  if (!res || (kind !== 'limits' && kind !== 'requests')) throw new ContainerConfigError(`unsupported container resource ${JSON.stringify(sel.resource)}`);
  const raw = kind === 'limits' ? (c.resources?.limits?.[res] ?? allocatable?.[res]) : c.resources?.requests?.[res];
  const value = parseQuantity(raw) ?? 0;
  const divisor = parseQuantity(sel.divisor) || 1;
  if (res === 'cpu') {
    // Upstream convertResourceCPUToString: ceil(milliValue / divisor.milliValue).
    return String(Math.ceil(Math.round(value * 1000) / Math.round(divisor * 1000)));
  }
  return String(Math.ceil(value / divisor));
}

// ---------------------------------------------------------------------------------------------
// The environment.

// Upstream IsEnvVarName: C identifiers are what shells accept; Kubernetes allows any printable
// ASCII except `=`. Keys from envFrom failing it are skipped (upstream records an event).
const VALID_ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * The container's environment in upstream order: service variables, then envFrom sources, then
 * `env` entries (whose `$(VAR)` references see everything defined before them), and service
 * variables that nothing overrode. Throws ContainerConfigError as upstream fails the container.
 */
export function makeEnvironment(pod: Pod, container: Container, r: EnvResolver = {}): EnvVar[] {
  const ns = pod.metadata?.namespace ?? '';
  const serviceEnv = new Map(Object.entries(pod.spec?.enableServiceLinks === false ? {} : (r.serviceEnv?.(ns) ?? {})));
  const env = new Map<string, string>();

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    let data: Record<string, string> | undefined;
    if (from.configMapRef) {
      data = r.configMap?.(ns, from.configMapRef.name ?? '');
      if (!data && !from.configMapRef.optional) throw new ContainerConfigError(`configmap "${from.configMapRef.name}" not found`);
    } else if (from.secretRef) {
      data = r.secret?.(ns, from.secretRef.name ?? '');
      if (!data && !from.secretRef.optional) throw new ContainerConfigError(`secret "${from.secretRef.name}" not found`);
    }
    for (const [k, v] of Object.entries(data ?? {})) {
      const key = prefix + k;
      if (VALID_ENV_NAME.test(key)) env.set(key, v);
    }
  }

  const lookup = mappingFor(env, serviceEnv);
  for (const e of container.env ?? []) {
    const value = e.valueFrom ? valueFrom(pod, container, e, ns, r) : expand(e.value ?? '', lookup);
    if (value !== undefined) env.set(e.name, value);
  }
  for (const [k, v] of serviceEnv) if (!env.has(k)) env.set(k, v);
  return [...env].map(([name, value]) => ({ name, value }));
}

/** A `valueFrom` source; undefined when an optional key or object is missing (the var is unset). */
function valueFrom(pod: Pod, container: Container, e: EnvVar, ns: string, r: EnvResolver): string | undefined {
  const vf = e.valueFrom!;
  if (vf.fieldRef) return fieldRefValue(pod, vf.fieldRef, { podIP: r.podIP, hostIP: r.hostIP });
  if (vf.resourceFieldRef) return resourceFieldRefValue(pod, vf.resourceFieldRef, container.name, r.nodeAllocatable);
  const ref = vf.configMapKeyRef ?? vf.secretKeyRef;
  if (!ref) return undefined;
  const kind = vf.configMapKeyRef ? 'configmap' : 'secret';
  const data = vf.configMapKeyRef ? r.configMap?.(ns, ref.name ?? '') : r.secret?.(ns, ref.name ?? '');
  if (!data) {
    if (ref.optional) return undefined;
    throw new ContainerConfigError(`${kind} "${ref.name}" not found`);
  }
  if (!(ref.key in data)) {
    if (ref.optional) return undefined;
    throw new ContainerConfigError(`couldn't find key ${ref.key} in ${kind === 'configmap' ? 'ConfigMap' : 'Secret'} ${ns}/${ref.name}`);
  }
  return data[ref.key];
}

/** Upstream ExpandContainerCommandAndArgs: `$(VAR)` in command and args see the container env. */
export function expandCommand(list: readonly string[] | undefined, env: readonly EnvVar[]): string[] | undefined {
  if (!list) return undefined;
  const lookup = mappingFor(new Map(env.map((e) => [e.name, e.value ?? ''])));
  return list.map((s) => expand(s, lookup));
}
