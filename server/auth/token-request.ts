// serviceaccounts/token (upstream's TokenREST): issues a service-account token, optionally
// bound to a pod, secret or node so it dies with that object.
import type { TokenRequest } from 'kubernetes-types/authentication/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { invalid, StatusError } from '../../apimachinery/errors.js';
import { nowTimestamp } from '../../apimachinery/object-meta.js';
import type { Registry } from '../generic/registry.js';
import type { KubeObject } from '../registry/types.js';
import { boundObjectKind, boundObjectUidConflict, DEFAULT_EXPIRATION_SECONDS, validateTokenRequest, type BoundObject, type ObjectRef, type ServiceAccountTokens } from './authn/service-account-token.js';

const BOUND_RESOURCES = { Pod: 'pods', Secret: 'secrets', Node: 'nodes' } as const;

export async function requestServiceAccountToken(registry: Registry, tokens: ServiceAccountTokens, namespace: string, name: string, body: KubeObject): Promise<TokenRequest> {
  const request = body as unknown as TokenRequest;
  const account = await registry.store('', 'serviceaccounts').get(namespace, name);
  const errors = validateTokenRequest(request);
  if (errors.length) throw invalid('TokenRequest', 'authentication.k8s.io', name, errors);

  let boundObject: BoundObject | undefined;
  let podNode: ObjectRef | undefined;
  const ref = request.spec?.boundObjectRef;
  if (ref) {
    const kind = boundObjectKind(ref);
    if (kind instanceof StatusError) throw kind;
    const target = await registry.store('', BOUND_RESOURCES[kind]).get(kind === 'Node' ? '' : namespace, ref.name ?? '');
    const uid = target.metadata?.uid ?? '';
    if (ref.uid && ref.uid !== uid) throw boundObjectUidConflict(BOUND_RESOURCES[kind], ref.name ?? '', ref.uid);
    boundObject = { kind, name: ref.name ?? '', uid };
    const nodeName = kind === 'Pod' ? (target as Pod).spec?.nodeName : undefined;
    if (nodeName) {
      const node = await registry.store('', 'nodes').get('', nodeName).catch(() => undefined);
      if (node) podNode = { name: nodeName, uid: node.metadata?.uid ?? '' };
    }
  }

  const expirationSeconds = request.spec?.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  const audiences = request.spec?.audiences?.length ? request.spec.audiences : tokens.apiAudiences;
  const issued = await tokens.issue(
    { namespace, name, uid: account.metadata?.uid ?? '' },
    { audiences, expirationSeconds, boundObject, podNode },
  );
  return {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    metadata: { name, namespace, creationTimestamp: nowTimestamp() },
    spec: { audiences: [...audiences], expirationSeconds, ...(ref ? { boundObjectRef: ref } : {}) },
    status: issued,
  };
}
