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

/**
 * A path segment with its percent-escapes decoded. Go's URL parser turns `%ff` into the raw byte and
 * never fails on it, so a name that is not valid UTF-8 is just a name no object has (404, or 422 on
 * create), not a server error: invalid UTF-8 sequences decode to U+FFFD here. A `%` that starts no
 * escape stays as it is.
 */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    const bytes: number[] = [];
    for (let i = 0; i < segment.length; i++) {
      const hex = segment[i] === '%' ? segment.slice(i + 1, i + 3) : '';
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else bytes.push(...Buffer.from(segment[i], 'utf8'));
    }
    return Buffer.from(bytes).toString('utf8');
  }
}

export function parseResourcePath(method: string, path: string, query: URLSearchParams): ResourceRequest | undefined {
  const parts = path.split('/').filter(Boolean).map(decodeSegment);
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
