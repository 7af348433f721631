// core/v1 endpoints: SetDefaults_EndpointPort, ValidateEndpoints and printEndpoints.
import type { EndpointAddress, Endpoints } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isDNS1123Subdomain } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { col, ipErrors, labelErrors, portNumErrors, protocolErrors, qualifiedNameErrors, specialIPErrors, type Stored } from './core-helpers.js';

type EndpointsObject = Stored<Endpoints>;

function addressErrors(a: EndpointAddress, path: string): FieldError[] {
  const errs = ipErrors(a.ip, `${path}.ip`);
  if (a.hostname) errs.push(...labelErrors(a.hostname, `${path}.hostname`));
  if (a.nodeName != null) errs.push(...isDNS1123Subdomain(a.nodeName).map((m) => fieldErrors.invalid(`${path}.nodeName`, a.nodeName, m)));
  errs.push(...specialIPErrors(a.ip, `${path}.ip`, 'may not be unspecified (0.0.0.0)'));
  return errs;
}

export function validateEndpoints(ep: Endpoints): FieldError[] {
  const errs: FieldError[] = [];
  (ep.subsets ?? []).forEach((ss, i) => {
    const p = `subsets[${i}]`;
    if (!ss.addresses?.length && !ss.notReadyAddresses?.length) errs.push(fieldErrors.required(p, 'must specify `addresses` or `notReadyAddresses`'));
    (ss.addresses ?? []).forEach((a, j) => errs.push(...addressErrors(a, `${p}.addresses[${j}]`)));
    (ss.notReadyAddresses ?? []).forEach((a, j) => errs.push(...addressErrors(a, `${p}.notReadyAddresses[${j}]`)));
    const ports = ss.ports ?? [];
    ports.forEach((port, j) => {
      const pp = `${p}.ports[${j}]`;
      if (ports.length > 1 && !port.name) errs.push(fieldErrors.required(`${pp}.name`));
      else if (port.name) errs.push(...labelErrors(port.name, `${pp}.name`));
      errs.push(...portNumErrors(port.port).map((m) => fieldErrors.invalid(`${pp}.port`, port.port, m)));
      errs.push(...protocolErrors(port.protocol, `${pp}.protocol`));
      if (port.appProtocol != null) errs.push(...qualifiedNameErrors(port.appProtocol, `${pp}.appProtocol`));
    });
  });
  return errs;
}

/** formatEndpoints: the first three ip:port pairs and how many more there are. */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    const ports = ss.ports ?? [];
    if (ports.length === 0) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) { more = true; break; }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) { more = true; break; }
        list.push(hostPort(a.ip, port.port));
      }
    }
  }
  const text = list.join(',');
  return more ? `${text} + ${count - max} more...` : text;
}

const endpoints: ResourceDefinition<EndpointsObject> = {
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  plural: 'endpoints',
  singular: 'endpoints',
  namespaced: true,
  shortNames: ['ep'],
  strategy: {
    defaults(ep) {
      for (const ss of ep.subsets ?? []) for (const p of ss.ports ?? []) p.protocol ||= 'TCP';
    },
    validate: validateEndpoints,
  },
  table: {
    columns: [NAME_COLUMN, col('Endpoints', 'The set of all endpoints is the union of all subsets.'), AGE_COLUMN],
    row: (ep) => [ep.metadata?.name, formatEndpoints(ep), age(ep.metadata?.creationTimestamp)],
  },
};

export default endpoints;
