// discovery.k8s.io/v1 EndpointSlice: port defaults, ValidateEndpointSlice{,Update} (address
// types, per-type address checks, ports, hints), generation on any non-metadata change, printer.
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, validateLabels } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { goValue, tooMany } from './go-format.js';
import { isValidIPv4Address, isValidIPv6Address, validateNonSpecialIP } from './net-validation.js';
import { type Stored, deepEqual, immutable, setGeneration } from './workload-helpers.js';

type Obj = Stored<EndpointSlice>;

const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;
const MAX_TOPOLOGY_LABELS = 16;
const MAX_ZONE_HINTS = 8;

function validateFQDN(path: string, value: string): FieldError[] {
  if (!value) return [fieldErrors.required(path)];
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  const errs = isDNS1123Subdomain(name);
  if (errs.length) return [fieldErrors.invalid(path, name, errs.join(','))];
  const labels = name.split('.');
  if (labels.length < 2) return [fieldErrors.invalid(path, name, 'should be a domain with at least two segments separated by dots')];
  for (const label of labels) {
    const le = isDNS1123Label(label);
    if (le.length) return [fieldErrors.invalid(path, label, le.join(','))];
  }
  return [];
}

function validateEndpoints(endpoints: Endpoint[], addressType: string, path: string): FieldError[] {
  if (endpoints.length > MAX_ENDPOINTS) return [tooMany(path, endpoints.length, MAX_ENDPOINTS)];
  const out: FieldError[] = [];
  endpoints.forEach((ep, i) => {
    const p = `${path}[${i}]`;
    const addresses = ep.addresses ?? [];
    if (addresses.length === 0) out.push(fieldErrors.required(`${p}.addresses`, 'must contain at least 1 address'));
    else if (addresses.length > MAX_ADDRESSES) out.push(tooMany(`${p}.addresses`, addresses.length, MAX_ADDRESSES));
    addresses.forEach((a, j) => {
      const ap = `${p}.addresses[${j}]`;
      if (addressType === 'IPv4' || addressType === 'IPv6') {
        const ipErrs = addressType === 'IPv4' ? isValidIPv4Address(ap, a) : isValidIPv6Address(ap, a);
        out.push(...(ipErrs.length ? ipErrs : validateNonSpecialIP(a, ap)));
      } else if (addressType === 'FQDN') {
        out.push(...validateFQDN(ap, a));
      }
    });
    if (ep.nodeName !== undefined) for (const m of isDNS1123Subdomain(ep.nodeName)) out.push(fieldErrors.invalid(`${p}.nodeName`, ep.nodeName, m));
    const topology = ep.deprecatedTopology ?? {};
    if (Object.keys(topology).length > MAX_TOPOLOGY_LABELS) out.push(tooMany(`${p}.deprecatedTopology`, Object.keys(topology).length, MAX_TOPOLOGY_LABELS));
    out.push(...validateLabels(topology, `${p}.deprecatedTopology`));
    if (ep.hostname !== undefined) for (const m of isDNS1123Label(ep.hostname)) out.push(fieldErrors.invalid(`${p}.hostname`, ep.hostname, m));
    const zones = ep.hints?.forZones ?? [];
    if (zones.length > MAX_ZONE_HINTS) out.push(tooMany(`${p}.hints.forZones`, zones.length, MAX_ZONE_HINTS));
    else {
      const seen = new Set<string>();
      zones.forEach((z, k) => {
        const zp = `${p}.hints.forZones[${k}].name`;
        if (seen.has(z.name)) out.push(fieldErrors.duplicate(zp, z.name));
        seen.add(z.name);
        for (const m of isValidLabelValue(z.name)) out.push(fieldErrors.invalid(zp, z.name, m));
      });
    }
  });
  return out;
}

function validatePorts(ports: EndpointPort[], path: string): FieldError[] {
  if (ports.length > MAX_PORTS) return [tooMany(path, ports.length, MAX_PORTS)];
  const out: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = `${path}[${i}]`;
    const name = port.name ?? '';
    if (name) for (const m of isDNS1123Label(name)) out.push(fieldErrors.invalid(`${p}.name`, name, m));
    if (names.has(name)) out.push(fieldErrors.duplicate(`${p}.name`, name));
    names.add(name);
    if (port.protocol === undefined) out.push(fieldErrors.required(`${p}.protocol`));
    else if (!['SCTP', 'TCP', 'UDP'].includes(port.protocol)) out.push(fieldErrors.notSupported(`${p}.protocol`, port.protocol, ['SCTP', 'TCP', 'UDP']));
    if (port.appProtocol !== undefined) for (const m of isQualifiedName(port.appProtocol)) out.push(fieldErrors.invalid(`${p}.appProtocol`, port.appProtocol, m));
  });
  return out;
}

function validate(obj: Obj): FieldError[] {
  const out: FieldError[] = [];
  if (!obj.addressType) out.push(fieldErrors.required('addressType'));
  else if (!['FQDN', 'IPv4', 'IPv6'].includes(obj.addressType)) out.push(fieldErrors.notSupported('addressType', obj.addressType, ['FQDN', 'IPv4', 'IPv6']));
  out.push(...validateEndpoints(obj.endpoints ?? [], obj.addressType, 'endpoints'));
  out.push(...validatePorts(obj.ports ?? [], 'ports'));
  return out;
}

/** listWithMoreString: three items, then "+ N more...", "<unset>" when there are none. */
function listWithMore(items: string[], max = 3): string {
  const shown = items.slice(0, max).join(',');
  if (items.length > max) return `${shown} + ${items.length - max} more...`;
  return shown || '<unset>';
}

const withoutMeta = (o: Obj) => ({ ...o, metadata: undefined, apiVersion: undefined, kind: undefined });

const endpointslices: ResourceDefinition<Obj> = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  singular: 'endpointslice',
  namespaced: true,
  generation: true,
  strategy: {
    defaults(obj) {
      for (const port of obj.ports ?? []) {
        port.name ??= '';
        port.protocol ??= 'TCP';
      }
    },
    prepareForUpdate(obj, old) {
      // A slice has no spec: any change outside metadata is a new generation.
      if (!deepEqual(withoutMeta(obj), withoutMeta(old))) setGeneration(obj, (old.metadata?.generation ?? 0) + 1);
    },
    validate,
    validateUpdate: (obj, old) => immutable('addressType', obj.addressType, old.addressType, goValue),
  },
  table: {
    columns: [
      NAME_COLUMN,
      { name: 'AddressType', type: 'string', description: 'addressType specifies the type of address carried by this EndpointSlice.' },
      { name: 'Ports', type: 'string', description: 'ports specifies the list of network ports exposed by each endpoint in this slice.' },
      { name: 'Endpoints', type: 'string', description: 'endpoints is a list of unique endpoints in this slice.' },
      AGE_COLUMN,
    ],
    row: (obj) => [
      obj.metadata?.name ?? '',
      obj.addressType ?? '',
      listWithMore((obj.ports ?? []).map((p) => (p.port !== undefined ? String(p.port) : p.name !== undefined ? p.name : '*'))),
      listWithMore((obj.endpoints ?? []).flatMap((e) => e.addresses ?? [])),
      age(obj.metadata?.creationTimestamp),
    ],
  },
};

export default endpointslices;
