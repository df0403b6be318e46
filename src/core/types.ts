/** Records and requests of the token engine. No HTTP, no SQL. */

/** RFC 8628 §3.4: the device authorization grant's wire name. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
/** RFC 8693 §2.1: the token exchange grant's wire name. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'

export type GrantType = 'client_credentials' | 'password' | 'refresh_token' | 'api_key' | 'authorization_code' | typeof DEVICE_CODE_GRANT | typeof TOKEN_EXCHANGE_GRANT
export const GRANT_TYPES: readonly GrantType[] = ['client_credentials', 'password', 'refresh_token', 'api_key', 'authorization_code', DEVICE_CODE_GRANT, TOKEN_EXCHANGE_GRANT]

/** Grants a public client (no secret, `token_endpoint_auth_method: none`) may use: a person is always in the loop. */
export const PUBLIC_CLIENT_GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT]

/**
 * What kind of application a client is, as the console offers them; it chooses defaults only
 * (grant types, auth method), the fields themselves decide what the client may do.
 */
export type ApplicationType = 'web' | 'spa' | 'native' | 'device' | 'machine' | 'api_key'
export const APPLICATION_TYPES: readonly ApplicationType[] = ['web', 'spa', 'native', 'device', 'machine', 'api_key']

export type TokenFormat = 'jwt' | 'opaque'

/**
 * JWS algorithms of JWT access tokens. RFC 9068 §2.1: ES256 is Gatehouse's default, and RS256
 * is one every authorization server and resource server MUST support.
 */
export type SigningAlg = 'ES256' | 'RS256'
export const SIGNING_ALGS: readonly SigningAlg[] = ['ES256', 'RS256']

export interface Client {
  id: string
  name: string
  /** SHA-256 digest (hex) of the client secret; the secret itself is never stored. '' for a public or a private_key_jwt client. */
  secretDigest: string
  /**
   * How it authenticates at the token endpoint (RFC 7591 §2). `none` is a public client (an SPA,
   * a native app, a CLI): it has no secret, and only grants with a person in the loop. A
   * confidential client may use either secret method (the seeds' clients send both).
   * `private_key_jwt` (RFC 7523 §2.2, OpenID Connect Core §9): no secret either; it signs an
   * assertion with a key of `jwks` or `jwksUri`, and nothing else authenticates it.
   */
  tokenEndpointAuthMethod: ClientAuthMethod
  /** A private_key_jwt client's public keys, inline (RFC 7591 §2 `jwks`); null otherwise. */
  jwks: ClientJwks | null
  /** Where a private_key_jwt client publishes its public keys (RFC 7591 §2 `jwks_uri`); null otherwise. */
  jwksUri: string | null
  applicationType: ApplicationType | null
  /** Where authorization answers may go, compared as exact strings (RFC 9700 §4.1.3). */
  redirectUris: string[]
  /** Where RP-initiated logout may send the browser (OpenID Connect RP-Initiated Logout §3). */
  postLogoutRedirectUris: string[]
  /** Authorization requests must come through `/oauth/par` (RFC 9126 §5). */
  requirePar: boolean
  /** Every token request must carry a DPoP proof (RFC 9449 §5); without one: `invalid_dpop_proof`. */
  requireDpop: boolean
  /** A first-party client: users are not asked to consent. */
  skipConsent: boolean
  grantTypes: GrantType[]
  /** Scopes this client may ask for. */
  scopes: string[]
  /** Scopes granted when a request names none (RFC 6749 §3.3); empty means all allowed scopes. */
  defaultScopes: string[]
  /** The `aud` of its access tokens; null means the issuer. The default resource (RFC 8707). */
  audience: string | null
  /**
   * RFC 8707: further resources (absolute URIs) it may name with `resource` (or `audience`);
   * besides these, its own `audience` and every registered API of which it holds a scope.
   * At token exchange (RFC 8693) they are also the APIs it acts as: a subject token issued for
   * one of them may be exchanged by it.
   */
  resources: string[]
  /**
   * RFC 8693 §1.1: it may exchange a subject token without an `actor_token` (impersonation:
   * the new token is the subject's, and `act` names this client). Off by default: an exchange
   * then needs an actor token (delegation).
   */
  allowImpersonation: boolean
  tokenFormat: TokenFormat
  /** The algorithm its JWT access tokens are signed with (RFC 9068 §2.1); unused for opaque tokens. */
  signingAlg: SigningAlg
  /** Access token lifetime in seconds. */
  accessTokenTtl: number
  /** Refresh token absolute lifetime in seconds (from the first token of a family). */
  refreshTokenAbsoluteTtl: number
  /** Refresh token sliding lifetime in seconds (from its own issue). */
  refreshTokenSlidingTtl: number
  /** Seconds during which a just-rotated refresh token is accepted again (lost-response retry). */
  refreshTokenReuseInterval: number
  /** When false, a refresh token stays the same on use (IdentityServer's "ReUse" mode). */
  rotateRefreshTokens: boolean
  /**
   * client_credentials token reuse, in seconds (0: off, the default): a request for the same
   * scopes, audience and DPoP key within this window gets the token already issued, with its
   * remaining lifetime (core/tokens/token-reuse.ts).
   */
  tokenReuseSeconds: number
  /**
   * Access tokens issued before this instant (ms) are inactive: set when the secret is rotated
   * with "revoke tokens". Client-credentials tokens belong to no grant, so this is what ends
   * them (a not-before policy, as Keycloak's; JWTs compare by their whole-second `iat`).
   */
  tokensNotBefore: number | null
  /**
   * User ids the password grant (and API-key user logins) may log in through this client;
   * null means any user. Console-created applications get their owner only.
   */
  allowedUsers: string[] | null
  createdAt: number
  updatedAt: number
}

export interface User {
  id: string
  /** An email address, stored lower-cased. */
  username: string
  passwordHash: string
  name: string | null
  email: string | null
  disabled: boolean
  createdAt: number
}

export interface ApiKey {
  /** Six upper-case hex characters: the part before the colon. */
  id: string
  name: string
  /** The client this key acts for. */
  clientId: string
  secretDigest: string
  scopes: string[]
  audience: string | null
  expiresAt: number | null
  revokedAt: number | null
  createdAt: number
}

/**
 * A JWK Set of public keys (RFC 7517 §5): what a private_key_jwt client registers. Only public
 * members: client-jwks.ts refuses private key material and symmetric keys before one is stored.
 */
export interface ClientJwks {
  keys: Record<string, unknown>[]
}

/** How a client authenticates (RFC 6749 §2.3.1, RFC 7591 §2, RFC 7523 §2.2). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none' | 'private_key_jwt'

/** RFC 7521 §4.2 / RFC 7523 §2.2: the one `client_assertion_type` Gatehouse reads. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** How the caller presented its client credentials: a secret (or none, a public client), or a signed assertion. */
export type ClientCredentials =
  | { method: 'client_secret_basic' | 'client_secret_post' | 'none'; clientId: string; clientSecret: string }
  | {
      method: 'private_key_jwt'
      /** The body's client_id, or else the assertion's (unverified) `sub`: whom it claims to be. */
      clientId: string
      /** The compact JWS of `client_assertion`, unverified. */
      assertion: string
    }

/**
 * Conventions a dialect brings with it. The rules differ between the seed APIs; the
 * engine applies whichever the dialect names.
 */
export interface DialectPolicy {
  /** `client-default`: RFC 6749 §3.3 default scopes. `all-allowed`: IdentityServer's default. */
  scopeDefault: 'client-default' | 'all-allowed'
  /** `offline_access`: a refresh token only when that scope is granted (OpenID Connect). */
  refreshTokenRule: 'grant-allowed' | 'offline_access'
  /**
   * A password request without username or password: `invalid_request` (RFC 6749 §4.3.2,
   * the default), or IdentityServer's `invalid_grant` "invalid_username_or_password", where a
   * missing password counts as an empty one.
   */
  missingUserCredentials?: 'invalid_request' | 'invalid_grant'
  /**
   * The grant types this dialect's endpoint serves; any other is `unsupported_grant_type`
   * (RFC 6749 §5.2), as if the engine did not know it. Undefined: every registered grant.
   */
  grantTypes?: readonly GrantType[]
}

export const STANDARD_POLICY: DialectPolicy = { scopeDefault: 'client-default', refreshTokenRule: 'grant-allowed' }

/**
 * The standard `/oauth/token` endpoint: RFC 6749's grants. `api_key` is the Canary dialect's
 * (its key stands in for client authentication), so it must not be reachable here.
 */
export const RFC6749_POLICY: DialectPolicy = { ...STANDARD_POLICY, grantTypes: ['client_credentials', 'password', 'refresh_token', 'authorization_code', DEVICE_CODE_GRANT, TOKEN_EXCHANGE_GRANT] }

export interface TokenRequest {
  grantType: string
  client?: ClientCredentials
  /**
   * Every parameter of the request (RFC 6749 §3.2: one value per name). A grant reads the ones
   * it declares (`Grant.parameters`) from here; the typed fields below are today's grants'.
   */
  parameters?: ReadonlyMap<string, string>
  /** Space-delimited, as on the wire (RFC 6749 §3.3). */
  scope?: string
  audience?: string
  username?: string
  password?: string
  refreshToken?: string
  /** `KEYID:SECRET` for the api_key grant. */
  apiKey?: string
  /**
   * For the api_key grant: a refresh token that an API key exchange gave, presented without
   * client credentials (the key stood for its client, so the token does too; Canary's refresh).
   */
  apiKeyRefreshToken?: string
  policy?: DialectPolicy
  /**
   * RFC 9449: the `DPoP` header of the request (undefined when none was sent) with the method
   * and endpoint URL its `htm` and `htu` must name; set by a route that accepts proofs.
   */
  dpop?: { proof: string | undefined; method: string; url: string }
  /** Where the request came from, for the audit log; set by the route. */
  origin?: RequestOrigin
}

/** Where a request came from (audit: "from where"), and which endpoint it came to. */
export interface RequestOrigin {
  ip?: string
  /**
   * The path of the endpoint the request came to, as routed (`/oauth/token`, `/connect/token`,
   * …). A client assertion's `aud` may be the issuer or this path under the issuer (the endpoint
   * URL as discovery publishes it). Set by the route from its own path, never from the request's
   * Host header: an assertion made for another server must not pass because a header said so.
   */
  endpointPath?: string
}

export interface TokenResult {
  accessToken: string
  /** `DPoP` when the access token is bound to the key of the request's proof (RFC 9449 §5). */
  tokenType: 'Bearer' | 'DPoP'
  /** Seconds. */
  expiresIn: number
  refreshToken?: string
  /** OpenID Connect Core §3.1.3.3: with the `openid` scope at the authorization-code and device grants. */
  idToken?: string
  /** RFC 8693 §2.2.1: what a token exchange issued (`urn:ietf:params:oauth:token-type:access_token`). */
  issuedTokenType?: string
  scope: string
  clientId: string
  subject: string
}

/** What a caller learns about a token (RFC 7662 §2.2). */
export interface TokenIntrospection {
  active: boolean
  tokenKind?: 'access_token' | 'refresh_token'
  scope?: string
  clientId?: string
  subject?: string
  username?: string
  audience?: string
  issuer?: string
  expiresAt?: number
  issuedAt?: number
  jti?: string
  /** RFC 9449 §6: the thumbprint of the key the token is bound to (`cnf.jkt`); absent for a bearer token. */
  jkt?: string
  /** RFC 8693 §4.1: who acts for the subject, when the token came from a token exchange. */
  act?: ActorClaim
  /** The grant an access token belongs to (never answered: a token exchange keeps the subject token's). */
  grantId?: string
}

/**
 * RFC 8693 §4.1 `act`: the party acting for the token's subject, `sub` the actor and, for a
 * client, its `client_id`; a nested `act` is the actor before it (a chain of delegation).
 */
export interface ActorClaim {
  sub: string
  client_id?: string
  act?: ActorClaim
}

/** A failed authentication: the claimed identity (never the secret), why it failed, from where. */
export interface AuthenticationFailure {
  kind: 'client' | 'user' | 'api_key'
  /** The client id, username or API key id that was presented. */
  id: string
  reason: string
  /** The authenticated client a user login was attempted through. */
  clientId?: string
  ip?: string
}

/**
 * Observes outcomes (audit, metrics, lockout); never sees a secret. Called synchronously on
 * the request path, so an implementation must not block: queue writes, do not await them.
 */
export interface EngineObserver {
  authenticationFailed?(event: AuthenticationFailure): void
  tokenIssued?(event: { clientId: string; grantType: string; subject: string }): void
}
