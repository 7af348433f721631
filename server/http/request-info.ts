// Turns a request path and method into what it addresses (upstream's RequestInfo).
export interface ResourceRequest {
  group: string;
  version: string;
  namespace: string;
  resource: string;
  name: string;
  subresource: string;
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'connect';
  /** For pods/proxy and services/proxy: the path after `proxy` (without its leading slash). */
  proxyPath?: string;
}

/** Subresources of a namespace itself, which the path shape would otherwise read as a resource. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseResourcePath(method: string, path: string, query: URLSearchParams): ResourceRequest | undefined {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string, version: string, rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let watchPath = false;
  if (rest[0] === 'watch') {
    watchPath = true;
    rest = rest.slice(1);
  }
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && NAMESPACE_SUBRESOURCES.has(rest[2]))) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource = '', name = '', subresource = '', ...extra] = rest;
  const proxy = subresource === 'proxy' && !!name;
  if (!resource || (extra.length && !proxy)) return undefined;
  if (rest[0] === 'namespaces' && rest.length >= 2) namespace = rest[1];
  const isWatch = watchPath || query.get('watch') === 'true' || query.get('watch') === '1';
  let verb: ResourceRequest['verb'];
  switch (method) {
    case 'GET': case 'HEAD': verb = isWatch ? 'watch' : name ? 'get' : 'list'; break;
    case 'POST': verb = 'create'; break;
    case 'PUT': verb = 'update'; break;
    case 'PATCH': verb = 'patch'; break;
    case 'DELETE': verb = name ? 'delete' : 'deletecollection'; break;
    case 'OPTIONS': if (proxy) { verb = 'get'; break; } return undefined;
    default: return undefined;
  }
  if (proxy) return { group, version, namespace, resource, name, subresource, verb, proxyPath: extra.map(encodeURIComponent).join('/') };
  return { group, version, namespace, resource, name, subresource, verb };
}
