// The kubelet-managed /etc/hosts every container of a pod gets (upstream managedHostsFileContent):
// the loopback and IPv6 lines, the pod's own IP and name, then spec.hostAliases.
import type { Pod } from 'kubernetes-types/core/v1.js';

/** The pod's hostname and domain: spec.hostname (else the name), spec.subdomain under the namespace. */
export function podHostname(pod: Pod, clusterDomain: string): { hostname: string; domain?: string } {
  // Upstream truncates to 63 characters and trims a trailing '-' or '.', as a DNS label requires.
  const hostname = (pod.spec?.hostname || pod.metadata?.name || '').slice(0, 63).replace(/[-.]+$/, '');
  const sub = pod.spec?.subdomain;
  return { hostname, domain: sub ? `${sub}.${pod.metadata?.namespace}.svc.${clusterDomain}` : undefined };
}

export function hostsFileContent(pod: Pod, podIPs: string[], clusterDomain: string): string {
  const { hostname, domain } = podHostname(pod, clusterDomain);
  let out = '# Kubernetes-managed hosts file.\n';
  out += '127.0.0.1\tlocalhost\n';
  out += '::1\tlocalhost ip6-localhost ip6-loopback\n';
  out += 'fe00::0\tip6-localnet\n';
  out += 'fe00::0\tip6-mcastprefix\n';
  out += 'fe00::1\tip6-allnodes\n';
  out += 'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs) out += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length) {
    out += '\n# Entries added by HostAliases.\n';
    for (const a of aliases) out += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  }
  return out;
}
