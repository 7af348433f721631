#!/usr/bin/env node
// Development tool (not part of the build): a throwaway plain-HTTP server that answers just enough
// for kubectl 1.27/1.28 `explain` and client-side `apply` validation, to check the `/openapi/v2`
// protobuf encoding (openapi/v2-protobuf.ts) end to end against a real kubectl.
//
//   node scripts/serve-openapi-v2.mjs --openapi swagger.json [--port 8099] [--minor 27] [--no-field-validation]
//
// Then point a kubeconfig at `server: http://127.0.0.1:PORT`. It serves /version, legacy discovery
// for v1 pods and apps/v1 deployments, and /openapi/v2 (protobuf when asked for, else JSON); every
// other path (including /openapi/v3, which sends 1.29+ back to v2) is a 404 Status.
// --no-field-validation drops the `fieldValidation` query parameters from the document. kubectl
// skips client-side validation when the PATCH operation for a kind advertises that parameter
// (it leaves validation to the server instead), so without it `apply --dry-run=client` shows no
// validation at all; the flag makes kubectl validate against the schema locally.
// The TypeScript encoder is transpiled on the fly so the script works without a build.
import { createServer } from 'node:http';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const openapiPath = opt('--openapi', undefined);
if (!openapiPath) throw new Error('--openapi PATH (an OpenAPI v2 JSON document) is required');
const port = Number(opt('--port', '8099'));
const minor = opt('--minor', '27');

async function loadEncoder() {
  const ts = require('typescript');
  const src = new URL('../openapi/v2-protobuf.ts', import.meta.url);
  const out = ts.transpileModule(readFileSync(src, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
  // A copy outside the repo cannot resolve `protobufjs`, so that import is rewritten to an absolute URL.
  const dir = mkdtempSync(join(tmpdir(), 'podium-openapi-v2-'));
  const protobufUrl = pathToFileURL(require.resolve('protobufjs/light.js')).href;
  writeFileSync(join(dir, 'v2-protobuf.mjs'), out.replace("'protobufjs/light.js'", `'${protobufUrl}'`));
  copyFileSync(new URL('../openapi/gnostic-openapiv2.json', import.meta.url), join(dir, 'gnostic-openapiv2.json'));
  return (await import(pathToFileURL(join(dir, 'v2-protobuf.mjs')).href)).encodeOpenApiV2Protobuf;
}

function withoutFieldValidation(doc) {
  const isFieldValidation = (p) => p?.name === 'fieldValidation' || /\/fieldValidation-/.test(p?.$ref ?? '');
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item)) {
      if (op && Array.isArray(op.parameters)) op.parameters = op.parameters.filter((p) => !isFieldValidation(p));
    }
    if (Array.isArray(item.parameters)) item.parameters = item.parameters.filter((p) => !isFieldValidation(p));
  }
  return doc;
}

const encode = await loadEncoder();
let doc = JSON.parse(readFileSync(openapiPath, 'utf8'));
if (args.includes('--no-field-validation')) doc = withoutFieldValidation(doc);
const started = performance.now();
const protobufBody = encode(doc);
console.log(`encoded ${openapiPath}: ${protobufBody.length} bytes in ${Math.round(performance.now() - started)} ms`);
const jsonBody = Buffer.from(JSON.stringify(doc));

const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const routes = {
  '/version': { major: '1', minor, gitVersion: `v1.${minor}.0`, platform: 'linux/amd64' },
  '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }] },
  '/apis': {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [{ name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } }],
  },
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [{ name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs, shortNames: ['po'], categories: ['all'] }],
  },
  '/apis/apps/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'apps/v1',
    resources: [{ name: 'deployments', singularName: 'deployment', namespaced: true, kind: 'Deployment', verbs, shortNames: ['deploy'], categories: ['all'] }],
  },
};

createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  console.log(`${req.method} ${req.url} accept=${req.headers.accept ?? ''}`);
  if (path === '/openapi/v2') {
    const wantsProtobuf = /application\/com\.github\.proto-openapi\.spec\.v2/.test(req.headers.accept ?? '');
    res.writeHead(200, {
      'Content-Type': wantsProtobuf ? 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf' : 'application/json',
    });
    res.end(wantsProtobuf ? protobufBody : jsonBody);
    return;
  }
  const body = routes[path];
  if (body) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
    return;
  }
  res.writeHead(404, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `${path} not found`, reason: 'NotFound', code: 404 }));
}).listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
