import type { TokenReuse } from '../tokens/token-reuse.js'
import type { ApiKeyStore } from '../credentials/api-key-store.js'
import type { AuthorizationCodeStore } from '../authorization/authorization-code-store.js'
import type { DeviceAuthorizationStore } from '../authorization/device-authorization-store.js'
import type { GrantStore, RefreshTokenStore } from '../tokens/token-store.js'
import type { UserStore } from '../credentials/user-store.js'
import type { AbuseGuard } from '../abuse/abuse-guard.js'
import type { OperatorStore } from '../admin/operator-store.js'
import type { ClientCache } from '../client-cache.js'
import type { Clock } from '../clock.js'
import type { TokenService } from '../tokens/token-service.js'
import type { ApiCatalog } from '../audience.js'
import type { Client, DialectPolicy, EngineObserver, GrantType, TokenIntrospection, TokenRequest, TokenResult } from '../types.js'

/** What the engine hands a grant once it has checked the client (if the grant needs one). */
export interface GrantContext {
  request: TokenRequest
  /** Undefined only for grants that authenticate the caller themselves (api_key). */
  client: Client | undefined
  policy: DialectPolicy
  /**
   * RFC 9449: the thumbprint of the key of the request's valid DPoP proof; the access token is
   * bound to it, and a public client's new grant (its refresh tokens) too. Absent: bearer.
   */
  dpopJkt?: string
}

/** Everything any grant may need; each grant's handler names the narrow part it uses. */
export interface GrantDeps {
  tokens: TokenService
  clock: Clock
  users: UserStore
  refreshTokens: RefreshTokenStore
  grants: GrantStore
  apiKeys: ApiKeyStore
  clients: ClientCache
  /** client_credentials token reuse (per-client setting); none: every request gets a new token. */
  reuse?: TokenReuse
  /** Failed user / API key authentications go here (audit); optional so tests can omit it. */
  observer?: EngineObserver
  /** Login lockout and API key limits (issue 7); optional so tests can omit it. */
  guard?: AbuseGuard
  /** The operator list, for the admin audience (admin/operator-audience.ts); none: nobody is an operator. */
  operators?: Pick<OperatorStore, 'getOperator'>
  /** The API registry in memory, for `audience` requests (RFC 8707); none registered when omitted. */
  apis?: ApiCatalog
  /** Authorization codes (issue 13); without them the authorization_code grant answers unsupported_grant_type. */
  authorizationCodes?: AuthorizationCodeStore
  /** Device authorizations (RFC 8628); without them the device_code grant answers unsupported_grant_type. */
  deviceAuthorizations?: DeviceAuthorizationStore
  /**
   * In-process introspection of an access token Gatehouse issued (signature, expiry, revocation,
   * grant, client), for token exchange (RFC 8693): its subject and actor tokens.
   */
  inspectAccessToken?: (token: string) => Promise<TokenIntrospection>
}

/** A grant is a registered module: its wire name, its parameters and its handler. */
export interface Grant {
  grantType: GrantType
  /**
   * The wire parameters the grant reads (RFC 6749 §4.x.3), besides client credentials. Grants
   * added since issue 13 read them from `TokenRequest.parameters`, so a dialect stays a parser.
   */
  parameters: readonly string[]
  /**
   * False when the grant authenticates the caller itself (an API key stands for its client); a
   * function when that depends on the request (a token exchange of an API key, RFC 8693).
   */
  requiresClientAuthentication: boolean | ((request: TokenRequest) => boolean)
  handle(context: GrantContext, deps: GrantDeps): Promise<TokenResult>
}

/** Resolves the client a grant runs for; the engine guarantees it when requiresClientAuthentication. */
export function clientOf(context: GrantContext): Client {
  if (!context.client) throw new Error('grant invoked without an authenticated client')
  return context.client
}

/** RFC 9449 §5: `DPoP` when the access token is bound to the request's proof key, else `Bearer` (RFC 6750). */
export function accessTokenType(dpopJkt: string | undefined): 'DPoP' | 'Bearer' {
  return dpopJkt !== undefined ? 'DPoP' : 'Bearer'
}
