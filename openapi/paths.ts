// The operations the server serves, derived from the registry table the way upstream's API
// installer names and documents them (operationId, x-kubernetes-action, the kind each operation
// takes and returns, its parameters), as a version-neutral model that documents.ts renders as v2
// or v3 path items. kubectl reads these: `explain` finds a kind through an operation tagged with its
// group/version/kind, and apply leaves validation to the server only when that kind's PATCH
// operation lists the fieldValidation parameter.
import type { ResourceDefinition } from '../server/registry/types.js';
import { ALL_VERBS } from '../server/registry/types.js';
import { definitionNameFor } from './type-graph.js';
import type { Gvk } from './schemas.js';

export type ParameterType = 'string' | 'integer' | 'boolean';
export interface Parameter { name: string; in: 'query' | 'path'; type: ParameterType; description: string; required?: boolean }
export type Action = 'get' | 'list' | 'watch' | 'watchlist' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection' | 'connect';
export type Method = 'get' | 'put' | 'post' | 'delete' | 'patch';

/** A request or response body: a definition by name, or plain text (logs, streams). */
export type Payload = { ref: string } | { type: 'string' };

export interface Operation {
  method: Method;
  operationId: string;
  description: string;
  tag: string;
  action?: Action;
  gvk?: Gvk;
  parameters: Parameter[];
  body?: { payload: Payload; required: boolean; contentTypes: string[] };
  // Media types of a request without a body; any type unless given.
  consumes?: string[];
  responses: Record<string, { description: string; payload?: Payload }>;
  produces: string[];
}

export interface PathItem {
  path: string;
  /** Parameters every operation of the path takes (upstream hoists them out of the operations). */
  parameters: Parameter[];
  operations: Operation[];
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';

// Query parameters, described in our own words after upstream's meaning.
const query = (name: string, type: ParameterType, description: string): Parameter => ({ name, in: 'query', type, description });
const pathParameter = (name: string, description: string): Parameter => ({ name, in: 'path', type: 'string', description, required: true });

const P = {
  pretty: query('pretty', 'string', "If 'true', the response is pretty printed."),
  dryRun: query('dryRun', 'string', 'When present, the request runs every stage except persisting the change. The only valid value is All. An unknown value is an error.'),
  fieldManager: query('fieldManager', 'string', 'Names the actor making this change, for managedFields. At most 128 printable characters; required for apply patches.'),
  fieldValidation: query('fieldValidation', 'string', 'How to treat unknown or duplicate fields in the request body (POST/PUT/PATCH): Ignore drops them silently; Warn drops them and sends a Warning header for each (the default); Strict rejects the request with BadRequest listing them all.'),
  force: query('force', 'boolean', 'Re-acquire fields other managers own when applying; only valid for apply patches.'),
  allowWatchBookmarks: query('allowWatchBookmarks', 'boolean', 'Ask for BOOKMARK watch events, which carry only a resourceVersion. The server may send them at its discretion; ignored unless watch is true.'),
  continue: query('continue', 'string', 'The continue token of a previous paginated list, to fetch the next chunk of the same consistent snapshot. An expired token gives 410 Gone.'),
  fieldSelector: query('fieldSelector', 'string', 'Restricts the returned objects by their fields. Defaults to everything.'),
  labelSelector: query('labelSelector', 'string', 'Restricts the returned objects by their labels. Defaults to everything.'),
  limit: query('limit', 'integer', 'The most items a list returns; when more exist, the list metadata carries a continue token for the rest.'),
  resourceVersion: query('resourceVersion', 'string', 'Constrains which resource versions a request may be served from; unset means the most recent.'),
  resourceVersionMatch: query('resourceVersionMatch', 'string', 'How resourceVersion applies to a list: Exact or NotOlderThan. Only valid together with resourceVersion.'),
  sendInitialEvents: query('sendInitialEvents', 'boolean', 'With watch=true, start the watch with synthetic ADDED events for the current state, followed by a bookmark marking its end. Needs resourceVersionMatch=NotOlderThan.'),
  timeoutSeconds: query('timeoutSeconds', 'integer', 'Timeout for a list or watch call, regardless of any activity.'),
  watch: query('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update and remove notifications.'),
  gracePeriodSeconds: query('gracePeriodSeconds', 'integer', 'Seconds before the object is deleted; a non-negative integer. Zero means delete immediately; unset means the default for the type.'),
  orphanDependents: query('orphanDependents', 'boolean', 'Deprecated in favour of propagationPolicy: whether dependent objects are orphaned.'),
  propagationPolicy: query('propagationPolicy', 'string', "Whether and how garbage collection handles dependents: Orphan, Background or Foreground. Only one of this and orphanDependents may be set."),
};

/** dryRun, fieldManager and fieldValidation: every write that takes an object body. */
const writeParameters = (): Parameter[] => [P.dryRun, P.fieldManager, P.fieldValidation];
const deleteParameters = (): Parameter[] => [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy];
function listParameters(watchable: boolean): Parameter[] {
  const all = [P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.timeoutSeconds];
  return watchable ? [P.allowWatchBookmarks, ...all, P.sendInitialEvents, P.watch] : all;
}

const streams = (what: string): Parameter[] => [
  query('container', 'string', `The container to ${what}; defaults to the only container when there is one.`),
  query('stderr', 'boolean', `Redirect the standard error stream of the pod for this ${what} call.`),
  query('stdin', 'boolean', `Redirect the standard input stream of the pod for this ${what} call.`),
  query('stdout', 'boolean', `Redirect the standard output stream of the pod for this ${what} call.`),
  query('tty', 'boolean', `Allocate a terminal for this ${what} call.`),
];
function connectParameters(sub: 'attach' | 'exec' | 'portforward'): Parameter[] {
  if (sub === 'portforward') return [query('ports', 'integer', 'The ports to forward; repeat for several.')];
  if (sub === 'exec') return [query('command', 'string', 'The command to run; repeat for each argument. Not run in a shell.'), ...streams('exec')];
  return streams('attach');
}
const logParameters = (): Parameter[] => [
  query('container', 'string', 'The container whose log to read; defaults to the only container when there is one.'),
  query('follow', 'boolean', 'Keep streaming the log as it grows.'),
  query('insecureSkipTLSVerifyBackend', 'boolean', "Don't verify the serving certificate of the node agent the log is read from."),
  query('limitBytes', 'integer', 'Stop after this many bytes of log.'),
  query('previous', 'boolean', 'Read the log of the previous, terminated container instance.'),
  query('sinceSeconds', 'integer', 'Only log lines newer than this many seconds. Only one of sinceSeconds and sinceTime may be given.'),
  query('tailLines', 'integer', 'The number of lines from the end of the log to show.'),
  query('timestamps', 'boolean', 'Prefix every line with an RFC3339 timestamp.'),
];
const STATUS = `${META}Status`;

/** The server answers in JSON only (it accepts JSON, YAML and protobuf bodies). */
const JSON_ONLY = ['application/json'];
const WATCHABLE = ['application/json', 'application/json;stream=watch'];
/** Patch bodies the server takes; kubectl computes strategic merge patches when the third is listed. */
export const PATCH_CONTENT_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

const OK = 'OK';

/** `apps` -> `apps`, `networking.k8s.io` -> `networking`, `rbac.authorization.k8s.io` -> `rbacAuthorization`. */
export function groupTag(group: string): string {
  if (!group) return 'core';
  const parts = group.replace(/\.k8s\.io$/, '').split('.');
  return parts.map((p, i) => (i === 0 ? p : p.charAt(0).toUpperCase() + p.slice(1))).join('');
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** The document a path belongs to in /openapi/v3, e.g. `apis/apps/v1`. */
export function groupVersionPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** Upstream's article rule: none for plurals (`Endpoints`), "an" before a vowel. */
function article(kind: string): string {
  if (kind.endsWith('s') && !kind.endsWith('ss')) return '';
  return /^[aeiou]/i.test(kind) ? 'an ' : 'a ';
}

const ref = (name: string): Payload => ({ ref: name });
const text: Payload = { type: 'string' };

function must(name: string | undefined, what: string): string {
  if (!name) throw new Error(`openapi: no definition for ${what}`);
  return name;
}

/** Moves the parameters every operation shares to the path item, as upstream does. */
function hoist(path: string, operations: Operation[]): PathItem {
  const key = (p: Parameter) => `${p.in}:${p.name}`;
  const shared = operations[0]!.parameters.filter((p) => operations.every((op) => op.parameters.some((q) => key(q) === key(p))));
  const sharedKeys = new Set(shared.map(key));
  for (const op of operations) op.parameters = op.parameters.filter((p) => !sharedKeys.has(key(p))).sort(byName);
  return { path, parameters: shared.sort(byName), operations };
}

const byName = (a: Parameter, b: Parameter) => a.name.localeCompare(b.name);

interface Subject {
  gv: string;        // operationId infix: CoreV1, AppsV1
  tag: string;       // core_v1
  scope: string;     // "Namespaced" or ""
  kind: string;
}

function op(s: Subject, method: Method, verbName: string, suffix: string, o: Omit<Operation, 'method' | 'operationId' | 'tag'>, kindForId = s.kind): Operation {
  return { method, operationId: `${verbName}${s.gv}${suffix.replace('{scope}', s.scope).replace('{kind}', kindForId)}`, tag: s.tag, ...o };
}

const responses = (payload: Payload, ...codes: string[]) => {
  const names: Record<string, string> = { '200': OK, '201': 'Created', '202': 'Accepted' };
  const out: Operation['responses'] = {};
  for (const c of codes) out[c] = { description: names[c]!, payload };
  out['401'] = { description: 'Unauthorized' };
  return out;
};

/** GET, PUT and PATCH of one object (the resource itself, or its status or scale). */
function objectOperations(s: Subject, pathParams: Parameter[], payload: Payload, gvk: Gvk, verbs: Set<string>, what: string, idSuffix: string): Operation[] {
  const out: Operation[] = [];
  const of = what ? `${what} of ` : '';
  if (verbs.has('get')) {
    out.push(op(s, 'get', 'read', `{scope}{kind}${idSuffix}`, { description: `read ${of}the specified ${s.kind}`, action: 'get', gvk, parameters: [...pathParams, P.pretty], responses: responses(payload, '200'), produces: JSON_ONLY }));
  }
  if (verbs.has('update')) {
    out.push(op(s, 'put', 'replace', `{scope}{kind}${idSuffix}`, {
      description: `replace ${of}the specified ${s.kind}`, action: 'put', gvk, parameters: [...pathParams, P.pretty, ...writeParameters()],
      body: { payload, required: true, contentTypes: ['*/*'] }, responses: responses(payload, '200', '201'), produces: JSON_ONLY,
    }));
  }
  if (verbs.has('patch')) {
    out.push(op(s, 'patch', 'patch', `{scope}{kind}${idSuffix}`, {
      description: `partially update ${of}the specified ${s.kind}`, action: 'patch', gvk, parameters: [...pathParams, P.pretty, ...writeParameters(), P.force],
      body: { payload: ref(`${META}Patch`), required: true, contentTypes: PATCH_CONTENT_TYPES }, responses: responses(payload, '200', '201'), produces: JSON_ONLY,
    }));
  }
  return out;
}

/** Subresources beyond status and scale that the server routes (see server/http/resource-handler.ts). */
function extraSubresources(def: ResourceDefinition, s: Subject, item: string, pathParams: Parameter[]): PathItem[] {
  const core = (kind: string): Gvk => ({ group: '', version: 'v1', kind });
  const out: PathItem[] = [];
  if (def.group === '' && def.plural === 'pods') {
    for (const [sub, kind, params] of [['attach', 'PodAttachOptions', connectParameters('attach')], ['exec', 'PodExecOptions', connectParameters('exec')], ['portforward', 'PodPortForwardOptions', connectParameters('portforward')]] as const) {
      const ops = (['get', 'post'] as const).map((m) => op(s, m, 'connect', `${capitalize(m)}{scope}{kind}${capitalize(sub)}`, {
        description: `connect ${m.toUpperCase()} requests to ${sub} of ${s.kind}`, action: 'connect', gvk: core(kind),
        parameters: [...pathParams, ...params], responses: responses(text, '200'), produces: ['*/*'],
      }));
      out.push(hoist(`${item}/${sub}`, ops));
    }
    const post = (sub: string, payload: Payload, gvk: Gvk) => hoist(`${item}/${sub}`, [op(s, 'post', 'create', `{scope}{kind}${capitalize(sub)}`, {
      description: `create ${sub} of a ${s.kind}`, action: 'post', gvk, parameters: [...pathParams, P.pretty, ...writeParameters()],
      body: { payload, required: true, contentTypes: ['*/*'] }, responses: responses(payload, '200', '201', '202'), produces: JSON_ONLY,
    })]);
    out.push(post('binding', ref(must(definitionNameFor('', 'v1', 'Binding'), 'Binding')), core('Binding')));
    out.push(post('eviction', ref(must(definitionNameFor('policy', 'v1', 'Eviction'), 'Eviction')), { group: 'policy', version: 'v1', kind: 'Eviction' }));
    out.push(hoist(`${item}/log`, [op(s, 'get', 'read', '{scope}{kind}Log', {
      description: `read log of the specified ${s.kind}`, action: 'get', gvk: core('Pod'), parameters: [...pathParams, P.pretty, ...logParameters()],
      responses: responses(text, '200'), produces: ['text/plain', 'application/json'],
    })]));
  }
  if (def.group === '' && def.plural === 'serviceaccounts') {
    const payload = ref(must(definitionNameFor('authentication.k8s.io', 'v1', 'TokenRequest'), 'TokenRequest'));
    out.push(hoist(`${item}/token`, [op(s, 'post', 'create', '{scope}{kind}Token', {
      description: `create token of a ${s.kind}`, action: 'post', gvk: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' },
      parameters: [...pathParams, P.pretty, ...writeParameters()],
      body: { payload, required: true, contentTypes: ['*/*'] }, responses: responses(payload, '200', '201', '202'), produces: JSON_ONLY,
    })]));
  }
  if (def.group === '' && def.plural === 'namespaces') {
    const payload = ref(must(definitionNameFor('', 'v1', 'Namespace'), 'Namespace'));
    out.push(hoist(`${item}/finalize`, [op(s, 'put', 'replace', '{scope}{kind}Finalize', {
      description: `replace finalize of the specified ${s.kind}`, action: 'put', gvk: core('Namespace'), parameters: [...pathParams, P.pretty, ...writeParameters()],
      body: { payload, required: true, contentTypes: ['*/*'] }, responses: responses(payload, '200', '201'), produces: JSON_ONLY,
    })]));
  }
  return out;
}

/** Every path of one served resource: collection, object, all-namespaces list, watches, subresources. */
export function resourcePaths(def: ResourceDefinition): PathItem[] {
  const prefix = def.group ? `/apis/${def.group}/${def.version}` : `/api/${def.version}`;
  const s: Subject = { gv: capitalize(groupTag(def.group)) + capitalize(def.version), tag: `${groupTag(def.group)}_${def.version}`, scope: def.namespaced ? 'Namespaced' : '', kind: def.kind };
  const gvk: Gvk = { group: def.group, version: def.version, kind: def.kind };
  const kindRef = ref(must(definitionNameFor(def.group, def.version, def.kind), `${def.group}/${def.version} ${def.kind}`));
  const listKind = def.listKind ?? `${def.kind}List`;
  const verbs = new Set<string>(def.verbs ?? ALL_VERBS);
  // Create-only kinds (the reviews) have no list type.
  const listRef = verbs.has('list') || verbs.has('watch') ? ref(must(definitionNameFor(def.group, def.version, listKind), `${def.group}/${def.version} ${listKind}`)) : ref(STATUS);
  const watchEvent = ref(`${META}WatchEvent`);
  const watchable = verbs.has('watch');
  const ns = def.namespaced ? [pathParameter('namespace', 'object name and auth scope, such as for teams and projects')] : [];
  const named = [pathParameter('name', `name of the ${def.kind}`), ...ns];
  const nsPath = def.namespaced ? '/namespaces/{namespace}' : '';
  const collection = `${prefix}${nsPath}/${def.plural}`;
  const item = `${collection}/{name}`;
  const out: PathItem[] = [];

  const collectionOps: Operation[] = [];
  if (verbs.has('list')) {
    collectionOps.push(op(s, 'get', 'list', '{scope}{kind}', { description: `list or watch objects of kind ${def.kind}`, action: 'list', gvk, parameters: [...ns, P.pretty, ...listParameters(watchable)], responses: responses(listRef, '200'), produces: watchable ? WATCHABLE : JSON_ONLY }));
  }
  if (verbs.has('create')) {
    collectionOps.push(op(s, 'post', 'create', '{scope}{kind}', {
      description: `create ${article(def.kind)}${def.kind}`, action: 'post', gvk, parameters: [...ns, P.pretty, ...writeParameters()],
      body: { payload: kindRef, required: true, contentTypes: ['*/*'] }, responses: responses(kindRef, '200', '201', '202'), produces: JSON_ONLY,
    }));
  }
  if (verbs.has('deletecollection')) {
    collectionOps.push(op(s, 'delete', 'delete', 'Collection{scope}{kind}', {
      description: `delete collection of ${def.kind}`, action: 'deletecollection', gvk,
      parameters: [...ns, P.pretty, ...deleteParameters(), ...listParameters(true).filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks')],
      body: { payload: ref(`${META}DeleteOptions`), required: false, contentTypes: ['*/*'] }, responses: responses(ref(STATUS), '200'), produces: JSON_ONLY,
    }));
  }
  if (collectionOps.length) out.push(hoist(collection, collectionOps));

  const itemOps = objectOperations(s, named, kindRef, gvk, verbs, '', '');
  if (verbs.has('delete')) {
    // The server answers a Pod delete with the Pod (graceful deletion), every other with a Status.
    const deleted = def.group === '' && def.kind === 'Pod' ? kindRef : ref(STATUS);
    itemOps.push(op(s, 'delete', 'delete', '{scope}{kind}', {
      description: `delete ${article(def.kind)}${def.kind}`, action: 'delete', gvk, parameters: [...named, P.pretty, ...deleteParameters()],
      body: { payload: ref(`${META}DeleteOptions`), required: false, contentTypes: ['*/*'] }, responses: responses(deleted, '200', '202'), produces: JSON_ONLY,
    }));
  }
  if (itemOps.length) out.push(hoist(item, itemOps));

  if (def.namespaced && verbs.has('list')) {
    out.push(hoist(`${prefix}/${def.plural}`, [op(s, 'get', 'list', '{kind}ForAllNamespaces', {
      description: `list or watch objects of kind ${def.kind}`, action: 'list', gvk, parameters: [P.pretty, ...listParameters(watchable)], responses: responses(listRef, '200'), produces: watchable ? WATCHABLE : JSON_ONLY,
    })]));
  }
  if (watchable) {
    const deprecated = "deprecated: use the 'watch' parameter with a list operation instead";
    const watch = (path: string, suffix: string, action: Action, params: Parameter[], description: string) => hoist(path, [op(s, 'get', 'watch', suffix, {
      description, action, gvk, parameters: [...params, P.pretty, ...listParameters(true)], responses: responses(watchEvent, '200'), produces: WATCHABLE,
    })]);
    out.push(watch(`${prefix}/watch${nsPath}/${def.plural}`, '{scope}{kind}List', 'watchlist', ns, `watch individual changes to a list of ${def.kind}. ${deprecated}.`));
    out.push(watch(`${prefix}/watch${nsPath}/${def.plural}/{name}`, '{scope}{kind}', 'watch', named, `watch changes to an object of kind ${def.kind}. ${deprecated}, filtered to a single item with the 'fieldSelector' parameter.`));
    if (def.namespaced) out.push(watch(`${prefix}/watch/${def.plural}`, '{kind}ListForAllNamespaces', 'watchlist', [], `watch individual changes to a list of ${def.kind}. ${deprecated}.`));
  }

  const subVerbs = new Set(['get', 'update', 'patch']);
  if (def.subresources?.status) out.push(hoist(`${item}/status`, objectOperations(s, named, kindRef, gvk, subVerbs, 'status', 'Status')));
  if (def.subresources?.approval) out.push(hoist(`${item}/approval`, objectOperations(s, named, kindRef, gvk, subVerbs, 'approval', 'Approval')));
  if (def.subresources?.scale) {
    const scale = ref(must(definitionNameFor('autoscaling', 'v1', 'Scale'), 'autoscaling/v1 Scale'));
    out.push(hoist(`${item}/scale`, objectOperations(s, named, scale, { group: 'autoscaling', version: 'v1', kind: 'Scale' }, subVerbs, 'scale', 'Scale')));
  }
  out.push(...extraSubresources(def, s, item, named));
  return out;
}

/** One GET with no parameters, for the discovery documents. */
function discoveryPath(path: string, operationId: string, tag: string, description: string, payload: string): PathItem {
  return { path, parameters: [], operations: [{ method: 'get', operationId, tag, description, parameters: [], responses: responses(ref(payload), '200'), produces: JSON_ONLY, consumes: JSON_ONLY }] };
}

/**
 * Every path item the server documents, grouped by the /openapi/v3 document it belongs to
 * (`api/v1`, `apis/apps/v1`, and the discovery documents `api`, `apis`, `apis/<group>`, `version`).
 */
export function allPaths(defs: ResourceDefinition[]): Map<string, PathItem[]> {
  const docs = new Map<string, PathItem[]>();
  const add = (doc: string, items: PathItem[]) => docs.set(doc, [...(docs.get(doc) ?? []), ...items]);
  add('api', [discoveryPath('/api/', 'getCoreAPIVersions', 'core', 'get available API versions', `${META}APIVersions`)]);
  add('apis', [discoveryPath('/apis/', 'getAPIVersions', 'apis', 'get available API versions', `${META}APIGroupList`)]);
  add('version', [discoveryPath('/version/', 'getCodeVersion', 'version', 'get the version information for this server', 'io.k8s.apimachinery.pkg.version.Info')]);
  for (const def of defs) {
    const doc = groupVersionPath(def.group, def.version);
    if (!docs.has(doc)) {
      const tag = groupTag(def.group);
      const resourceList = discoveryPath(`/${doc}/`, `get${capitalize(tag)}${capitalize(def.version)}APIResources`, `${tag}_${def.version}`, 'get available resources', `${META}APIResourceList`);
      add(doc, [resourceList]);
      if (def.group && !docs.has(`apis/${def.group}`)) {
        add(`apis/${def.group}`, [discoveryPath(`/apis/${def.group}/`, `get${capitalize(tag)}APIGroup`, tag, 'get information of a group', `${META}APIGroup`)]);
      }
    }
    add(doc, resourcePaths(def));
  }
  for (const items of docs.values()) items.sort((a, b) => a.path.localeCompare(b.path));
  return docs;
}
