// /openapi/v3, /openapi/v3/<group version> and /openapi/v2, answered as upstream's kube-openapi
// handlers do: ETag (the document's SHA-512), Last-Modified, 304 on a matching If-None-Match,
// `Cache-Control: public, immutable` for a v3 document fetched by its current `?hash=` (kubectl
// keeps those in its HTTP cache), a 301 to the current URL for a stale hash, Accept negotiation
// with 406 when nothing acceptable is served, and /openapi/v2 in JSON or gnostic protobuf.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { ResourceDefinition } from '../registry/types.js';
import { OpenApiDocuments, servedDocument, type ServedDocument } from '../../openapi/documents.js';
import { sendError } from './respond.js';
import { StatusError } from '../../apimachinery/errors.js';
import { logger } from '../../apimachinery/log.js';

const log = logger('openapi');
const gzipAsync = promisify(gzip);

const JSON_TYPE = 'application/json';
const V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
/** The older spelling kubectl ≤1.28 sends; upstream answers it with the new one. */
const V2_PROTOBUF_DEPRECATED = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/** The default the apiserver's filters put on answers that set none. */
const NO_CACHE = 'no-cache, private';

type Encoder = (doc: Record<string, unknown>) => Uint8Array | Promise<Uint8Array>;

interface Clause { type: string; subtype: string; q: number }

/** Accept clauses, most preferred first (by q, then by specificity, as goautoneg sorts them). */
function parseAccept(header: string | undefined): Clause[] {
  const clauses: Clause[] = [];
  for (const part of (header?.trim() ? header : '*/*').split(',')) {
    const [range, ...params] = part.split(';').map((s) => s.trim());
    if (!range) continue;
    const [type = '', subtype = '*'] = range.toLowerCase().split('/');
    let q = 1;
    for (const p of params) {
      const m = /^q=([\d.]+)$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    if (q > 0) clauses.push({ type, subtype, q });
  }
  const specificity = (c: Clause) => (c.type === '*' ? 0 : c.subtype === '*' ? 1 : 2);
  return clauses.map((c, i) => ({ c, i })).sort((a, b) => b.c.q - a.c.q || specificity(b.c) - specificity(a.c) || a.i - b.i).map((x) => x.c);
}

/** The first of `offered` (media types in server preference order) the Accept header admits. */
function negotiate(accept: string | undefined, offered: string[]): string | undefined {
  for (const c of parseAccept(accept)) {
    for (const media of offered) {
      const [type, subtype] = media.split('/');
      if ((c.type === type || c.type === '*') && (c.subtype === subtype || c.subtype === '*')) return media;
    }
  }
  return undefined;
}

function notModified(req: IncomingMessage, doc: ServedDocument, lastModified: Date): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) return inm.split(',').some((t) => { const tag = t.trim().replace(/^W\//, ''); return tag === '*' || tag === doc.etag; });
  const ims = req.headers['if-modified-since'];
  return ims !== undefined && !Number.isNaN(Date.parse(ims)) && lastModified.getTime() <= Date.parse(ims);
}

interface Answer {
  doc: ServedDocument;
  contentType: string;
  lastModified: Date;
  headers?: Record<string, string>;
  /** The body to send instead of `doc.body` (a gzipped copy); the ETag stays the document's. */
  body?: Buffer;
}

function send(req: IncomingMessage, res: ServerResponse, a: Answer): void {
  const headers: Record<string, string | number> = {
    'Cache-Control': NO_CACHE, ...a.headers, 'Content-Type': a.contentType, ETag: a.doc.etag, 'Last-Modified': a.lastModified.toUTCString(),
  };
  if (notModified(req, a.doc, a.lastModified)) {
    // As Go's ServeContent: a 304 describes no body, and the ETag makes Last-Modified redundant.
    delete headers['Content-Type'];
    delete headers['Content-Encoding'];
    delete headers['Last-Modified'];
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const body = a.body ?? a.doc.body;
  headers['Content-Length'] = body.length;
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

function notAcceptable(res: ServerResponse): void {
  res.writeHead(406, { 'Content-Length': 0, 'Cache-Control': NO_CACHE, Vary: 'Accept' });
  res.end();
}

async function loadEncoder(): Promise<Encoder | undefined> {
  try {
    // Written separately and optional; a variable specifier keeps the compiler from requiring it.
    const specifier = '../../openapi/v2-protobuf.js';
    const mod = (await import(specifier)) as { encodeOpenApiV2Protobuf?: Encoder };
    return mod.encodeOpenApiV2Protobuf;
  } catch (err) {
    log.warn('no OpenAPI v2 protobuf encoder: /openapi/v2 is served in JSON only', { err: String(err) });
    return undefined;
  }
}

/**
 * Serves the OpenAPI documents of `defs`; answers false (and writes nothing) for any other path.
 * `path` comes without a trailing slash.
 */
export function createOpenApiHandler(defs: ResourceDefinition[]): (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) => boolean {
  const docs = new OpenApiDocuments(defs);
  let encoder: Promise<Encoder | undefined> | undefined;
  let protobuf: Promise<ServedDocument> | undefined;
  const gzipped = new Map<string, Promise<Buffer>>();

  /** Upstream wraps /openapi/v2 in a gzip handler; the compressed copy is made once per encoding. */
  async function maybeGzip(req: IncomingMessage, key: string, body: Buffer): Promise<Buffer | undefined> {
    if (!/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return undefined;
    let z = gzipped.get(key);
    if (!z) gzipped.set(key, (z = gzipAsync(body)));
    return z;
  }

  async function serveV2(req: IncomingMessage, res: ServerResponse): Promise<void> {
    encoder ??= loadEncoder();
    const encode = await encoder;
    const offered = encode ? [JSON_TYPE, V2_PROTOBUF_DEPRECATED, V2_PROTOBUF] : [JSON_TYPE];
    const media = negotiate(req.headers.accept, offered);
    if (!media) return notAcceptable(res);
    const json = docs.v2();
    let doc = json;
    if (media !== JSON_TYPE) {
      // One encoding for the server's life; the ETag stays the JSON document's, as upstream's.
      protobuf ??= Promise.resolve(encode!(docs.v2Document())).then(
        (bytes) => ({ ...servedDocument(Buffer.from(bytes)), hash: json.hash, etag: json.etag }),
        (err: unknown) => { protobuf = undefined; throw err; },
      );
      doc = await protobuf;
    }
    const key = media === JSON_TYPE ? 'json' : 'protobuf';
    const body = await maybeGzip(req, key, doc.body);
    const headers: Record<string, string> = { Vary: 'Accept, Accept-Encoding' };
    if (body) headers['Content-Encoding'] = 'gzip';
    send(req, res, { doc, body, contentType: media === JSON_TYPE ? JSON_TYPE : V2_PROTOBUF, lastModified: docs.lastModified, headers });
  }

  function serveV3(req: IncomingMessage, res: ServerResponse, name: string, query: URLSearchParams): void {
    const doc = docs.v3(name);
    if (!doc) {
      const body = '404 Not Found\n';
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': NO_CACHE, 'X-Content-Type-Options': 'nosniff' });
      res.end(body);
      return;
    }
    if (!negotiate(req.headers.accept, [JSON_TYPE])) return notAcceptable(res);
    const headers: Record<string, string> = { Vary: 'Accept' };
    const hash = query.get('hash');
    if (hash) {
      if (hash !== doc.hash) {
        const location = `/openapi/v3/${name}?hash=${doc.hash}`;
        const body = `<a href="${location}">Moved Permanently</a>.\n\n`;
        res.writeHead(301, { Location: location, 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': NO_CACHE, ETag: doc.etag, Vary: 'Accept' });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      headers['Cache-Control'] = 'public, immutable';
      // A year from now: the URL names this exact content, so it never goes stale.
      headers.Expires = new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString();
    }
    send(req, res, { doc, contentType: JSON_TYPE, lastModified: docs.lastModified, headers });
  }

  return (req, res, path, query) => {
    const v3Doc = path.startsWith('/openapi/v3/') ? path.slice('/openapi/v3/'.length) : undefined;
    if (path !== '/openapi/v2' && path !== '/openapi/v3' && v3Doc === undefined) return false;
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        throw new StatusError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
      }
      if (path === '/openapi/v2') {
        serveV2(req, res).catch((err) => sendError(res, err));
      } else if (v3Doc === undefined) {
        // The root is built fresh by upstream on every request; ours never changes.
        send(req, res, { doc: docs.v3Root(), contentType: JSON_TYPE, lastModified: docs.lastModified });
      } else {
        serveV3(req, res, v3Doc, query);
      }
    } catch (err) {
      sendError(res, err);
    }
    return true;
  };
}
