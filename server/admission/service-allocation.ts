// Service IP and node-port allocation (upstream's service REST allocators): cluster IPs from the
// service CIDR, node ports from the node-port range; released when the service goes.
import type { Service } from 'kubernetes-types/core/v1.js';
import type { Redis } from 'ioredis';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';
import { RedisAllocator, intToIp, ipToInt, parseCidr, type Cidr } from '../allocators/allocator.js';
import { invalid } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';

interface Claimed { ips: number[]; ports: number[] }

export function serviceAllocation(redis: Redis, serviceCidr: string, nodePortRange: string): AdmissionPlugin & { kubernetesServiceIP: string } {
  const cidr: Cidr = parseCidr(serviceCidr);
  // The network address, the first address (the kubernetes service) and the broadcast are not handed out.
  const ips = new RedisAllocator(redis, '{core/services}:clusterips', cidr.base + 2, cidr.base + cidr.size - 2);
  const [lo, hi] = nodePortRange.split('-').map(Number);
  const ports = new RedisAllocator(redis, '{core/services}:nodeports', lo, hi);
  const claimed = new WeakMap<AdmissionRequest, Claimed>();
  const isService = (req: AdmissionRequest) => req.def.group === '' && req.def.plural === 'services' && !req.subresource;
  const owner = (req: AdmissionRequest) => `${req.namespace}/${req.name || (req.object?.metadata?.name ?? '')}`;

  const fail = (svc: Service, field: string, value: unknown, detail: string) => invalid('Service', '', svc.metadata?.name ?? '', [fieldErrors.invalid(field, value, detail)]);

  async function allocateIP(req: AdmissionRequest, svc: Service, c: Claimed): Promise<void> {
    const spec = svc.spec!;
    if (spec.type === 'ExternalName') return;
    if (spec.clusterIP === 'None') {
      spec.clusterIPs = ['None'];
      return;
    }
    if (spec.clusterIP) {
      const ip = ipToInt(spec.clusterIP);
      if (!/^\d+\.\d+\.\d+\.\d+$/.test(spec.clusterIP) || ip < cidr.base || ip >= cidr.base + cidr.size) {
        throw fail(svc, 'spec.clusterIPs', [spec.clusterIP], `failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${cidr.text}`);
      }
      if (req.dryRun ? !(await ips.isFree(ip)) : !(await ips.claim(ip, owner(req)))) {
        throw fail(svc, 'spec.clusterIPs', [spec.clusterIP], `failed to allocate IP ${spec.clusterIP}: provided IP is already allocated`);
      }
      if (!req.dryRun) c.ips.push(ip);
    } else {
      const ip = req.dryRun ? await ips.peek() : await ips.allocate(owner(req));
      if (ip === undefined) throw fail(svc, 'spec.clusterIPs', [], 'failed to allocate a serviceIP: range is full');
      if (!req.dryRun) c.ips.push(ip);
      spec.clusterIP = intToIp(ip);
    }
    spec.clusterIPs = [spec.clusterIP];
  }

  async function allocatePorts(req: AdmissionRequest, svc: Service, old: Service | undefined, c: Claimed): Promise<void> {
    const spec = svc.spec!;
    if (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer') {
      for (const p of spec.ports ?? []) delete p.nodePort;
      return;
    }
    const oldPorts = new Set((old?.spec?.ports ?? []).map((p) => p.nodePort).filter((p): p is number => !!p));
    for (const [i, p] of (spec.ports ?? []).entries()) {
      if (p.nodePort && oldPorts.has(p.nodePort)) continue;
      if (p.nodePort) {
        if (!ports.inRange(p.nodePort)) throw fail(svc, `spec.ports[${i}].nodePort`, p.nodePort, `provided port is not in the valid range. The range of valid ports is ${lo}-${hi}`);
        if (req.dryRun ? !(await ports.isFree(p.nodePort)) : !(await ports.claim(p.nodePort, owner(req)))) {
          throw fail(svc, `spec.ports[${i}].nodePort`, p.nodePort, 'provided port is already allocated');
        }
        if (!req.dryRun) c.ports.push(p.nodePort);
      } else {
        const port = req.dryRun ? await ports.peek() : await ports.allocate(owner(req));
        if (port === undefined) throw fail(svc, `spec.ports[${i}].nodePort`, 0, 'failed to allocate a nodePort: range is full');
        if (!req.dryRun) c.ports.push(port);
        p.nodePort = port;
      }
    }
  }

  async function releaseAll(req: AdmissionRequest, c: Claimed): Promise<void> {
    for (const ip of c.ips) await ips.release(ip, owner(req));
    for (const p of c.ports) await ports.release(p, owner(req));
  }

  return {
    name: 'ServiceAllocation',
    kubernetesServiceIP: intToIp(cidr.base + 1),
    async admit(req) {
      if (!isService(req) || req.operation === 'DELETE') return;
      const svc = req.object as Service;
      svc.spec ??= {};
      const c: Claimed = { ips: [], ports: [] };
      claimed.set(req, c);
      try {
        if (req.operation === 'CREATE') {
          // The kubernetes service owns the first address; the bootstrap creates it with that IP.
          if (svc.spec.clusterIP === intToIp(cidr.base + 1) && req.namespace === 'default' && svc.metadata?.name === 'kubernetes') {
            if (!req.dryRun) await ips.claim(cidr.base + 1, owner(req));
            svc.spec.clusterIPs = [svc.spec.clusterIP];
          } else await allocateIP(req, svc, c);
        } else {
          const old = req.oldObject as Service;
          if (!svc.spec.clusterIP && old.spec?.clusterIP) {
            svc.spec.clusterIP = old.spec.clusterIP;
            svc.spec.clusterIPs ??= old.spec.clusterIPs;
          }
          if (svc.spec.type === 'ExternalName') {
            delete svc.spec.clusterIP;
            delete svc.spec.clusterIPs;
          } else if (!svc.spec.clusterIP) await allocateIP(req, svc, c);
        }
        await allocatePorts(req, svc, req.oldObject as Service | undefined, c);
      } catch (err) {
        await releaseAll(req, c);
        throw err;
      }
    },
    async afterWrite(req, outcome) {
      if (!isService(req)) return;
      if (req.operation === 'DELETE' && outcome === 'stored') {
        const old = req.oldObject as Service;
        const ip = old.spec?.clusterIP;
        if (ip && ip !== 'None') await ips.release(ipToInt(ip), owner(req));
        for (const p of old.spec?.ports ?? []) if (p.nodePort) await ports.release(p.nodePort, owner(req));
        return;
      }
      const c = claimed.get(req);
      if (c && outcome === 'failed') await releaseAll(req, c);
    },
  };
}
