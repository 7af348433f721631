// The request authenticator chain, in upstream's order: client certificate, then bearer
// token (static token file, then service-account JWTs), then anonymous. As upstream's
// union.NewFailOnError wraps the chain for anonymous, a credential that was offered and
// failed is a 401 even when anonymous access is on.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { StatusError } from '../../../apimachinery/errors.js';
import { ANONYMOUS_USER, GROUP_UNAUTHENTICATED, type UserInfo } from '../types.js';
import { withAuthenticatedGroup } from './groups.js';
import type { ServiceAccountLookup, ServiceAccountTokens } from './service-account-token.js';
import type { StaticTokenAuthenticator } from './token-file.js';
import { hasUnverifiedCertificate, userFromCertificate } from './x509.js';

/** The subprotocol prefix a browser-style websocket client carries its token in. */
const WEBSOCKET_TOKEN_PROTOCOL = 'base64url.bearer.authorization.k8s.io.';

export interface RequestAuthenticatorOptions {
  staticTokens?: StaticTokenAuthenticator;
  serviceAccountTokens?: ServiceAccountTokens;
  lookup: ServiceAccountLookup;
  /** --anonymous-auth: requests without credentials run as system:anonymous. */
  anonymous: boolean;
  /** --api-audiences; default: the service-account issuer's, else none. */
  apiAudiences?: string[];
}

/** upstream's 401: a bare Status with reason and message "Unauthorized". */
export function unauthorized(): StatusError {
  return new StatusError(401, 'Unauthorized', 'Unauthorized');
}

export const ANONYMOUS: UserInfo = { name: ANONYMOUS_USER, groups: [GROUP_UNAUTHENTICATED] };

/**
 * upstream's bearertoken authenticator: `Authorization: Bearer <token>` (scheme case-insensitive,
 * split on single spaces). Anything else (Basic, an empty token) is no credential at all.
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  const auth = (authorization ?? '').trim();
  if (!auth) return undefined;
  const parts = auth.split(' ');
  if (parts.length < 2 || parts[0].toLowerCase() !== 'bearer') return undefined;
  return parts[1] || undefined;
}

/** upstream's websocket protocol authenticator: the token rides in Sec-WebSocket-Protocol. */
function websocketToken(req: IncomingMessage): string | undefined {
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return undefined;
  const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const encoded = protocols.find((p) => p.startsWith(WEBSOCKET_TOKEN_PROTOCOL));
  if (!encoded) return undefined;
  const token = Buffer.from(encoded.slice(WEBSOCKET_TOKEN_PROTOCOL.length), 'base64url').toString('utf8');
  return token || undefined;
}

export class RequestAuthenticator {
  readonly apiAudiences: string[];

  constructor(private readonly opts: RequestAuthenticatorOptions) {
    this.apiAudiences = opts.apiAudiences ?? opts.serviceAccountTokens?.apiAudiences ?? [];
  }

  /** The requester, or a 401 StatusError. */
  async authenticate(req: IncomingMessage): Promise<UserInfo> {
    const socket = req.socket as Partial<TLSSocket>;
    const tls = typeof socket.getPeerCertificate === 'function';
    if (tls) {
      const user = userFromCertificate(req.socket as TLSSocket);
      if (user) return user;
    }
    // A certificate the CA did not sign is a failed credential: it may still be rescued by a
    // valid token, but never falls through to anonymous.
    let failed = tls && hasUnverifiedCertificate(req.socket as TLSSocket);

    const header = bearerToken(req.headers.authorization);
    const token = header ?? websocketToken(req);
    if (token !== undefined) {
      const result = await this.authenticateToken(token);
      if (result) {
        // As upstream: once used, the token is dropped so nothing downstream (proxies) forwards it.
        if (header !== undefined) delete req.headers.authorization;
        return result.user;
      }
      failed = true;
    }
    if (failed || !this.opts.anonymous) throw unauthorized();
    return { ...ANONYMOUS, groups: [...ANONYMOUS.groups] };
  }

  /**
   * A bearer token as the request chain judges it (AuthServices.authenticateToken): static
   * tokens answer for any audience (upstream's audience-agnostic wrapper echoes the wanted ones);
   * service-account tokens answer with the audiences they share with the wanted ones.
   */
  async authenticateToken(token: string, audiences?: string[]): Promise<{ user: UserInfo; audiences: string[] } | undefined> {
    const wanted = audiences && audiences.length > 0 ? audiences : this.apiAudiences;
    const fromFile = this.opts.staticTokens?.authenticate(token);
    if (fromFile) return { user: withAuthenticatedGroup(fromFile), audiences: [...wanted] };
    const sa = await this.opts.serviceAccountTokens?.verify(token, this.opts.lookup, wanted.length > 0 ? wanted : undefined);
    if (sa) return { user: withAuthenticatedGroup(sa.user), audiences: sa.audiences };
    return undefined;
  }
}
