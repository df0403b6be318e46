import type { TokenReuse } from './tokens/token-reuse.js'
import type { AccessTokenStore, GrantStore, RefreshTokenStore } from './tokens/token-store.js'
import type { ApiKeyStore } from './credentials/api-key-store.js'
import type { UserStore } from './credentials/user-store.js'
import type { AbuseGuard } from './abuse/abuse-guard.js'
import type { OperatorStore } from './admin/operator-store.js'
import { isAdminAudience } from './admin/admin-audience.js'
import type { ApiCatalog } from './audience.js'
import type { AuthorizationCodeStore } from './authorization/authorization-code-store.js'
import type { DeviceAuthorizationStore } from './authorization/device-authorization-store.js'
import { authenticateClient } from './client-authentication.js'
import type { ClientCache } from './client-cache.js'
import type { AssertionJtiStore } from './credentials/assertion-jti-store.js'
import { ClientAssertionVerifier } from './credentials/client-assertion.js'
import { ClientKeys, type ClientKeySource } from './credentials/client-keys.js'
import type { Clock } from './clock.js'
import { OAuthError } from './errors.js'
import { checkDpopProof, type DpopPolicy } from './dpop/dpop-proof.js'
import type { Grant, GrantDeps } from './grants/grant.js'
import { createGrantRegistry } from './grants/registry.js'
import { checkAccessToken, introspectToken, type AccessTokenRefusal } from './introspection.js'
import { revokeToken } from './revocation.js'
import { userInfo, type UserInfoResult } from './userinfo.js'
import type { KeyRing } from './tokens/key-ring.js'
import type { TokenService } from './tokens/token-service.js'
import { traced, type Tracer } from './tracer.js'
import { STANDARD_POLICY, type Client, type DialectPolicy, type ClientCredentials, type EngineObserver, type RequestOrigin, type TokenIntrospection, type TokenRequest, type TokenResult } from './types.js'

export interface EngineDeps {
  clients: ClientCache
  /** client_credentials token reuse (per-client setting); none: every request gets a new token. */
  reuse?: TokenReuse
  users: UserStore
  apiKeys: ApiKeyStore
  refreshTokens: RefreshTokenStore
  grants: GrantStore
  accessTokens: AccessTokenStore
  tokens: TokenService
  keys: KeyRing
  clock: Clock
  /** The grant types served (defaults to all built-in ones). */
  grantTypes?: readonly Grant[]
  observer?: EngineObserver
  /** Rate limits, failed-attempt throttling and login lockout (issue 7); none when omitted. */
  guard?: AbuseGuard
  /** The operator list: who may get a token for the admin audience; none when omitted. */
  operators?: Pick<OperatorStore, 'getOperator'>
  /** The API registry (in memory) that `audience` requests are checked against; none when omitted. */
  apis?: ApiCatalog
  /** Authorization codes the authorization endpoint issued; without them that grant is not served. */
  authorizationCodes?: AuthorizationCodeStore
  /** Device authorizations the device authorization endpoint started (RFC 8628); without them that grant is not served. */
  deviceAuthorizations?: DeviceAuthorizationStore
  /** The `jti` values of accepted client assertions; without it private_key_jwt is refused. */
  assertionJtis?: AssertionJtiStore
  /** Fetches private_key_jwt clients' `jwks_uri`; without it only inline `jwks` work. */
  clientKeySource?: ClientKeySource
  /** Told when a jwks_uri could not be fetched or held no usable key set (the reason is never answered). */
  onClientKeysError?(clientId: string, error: unknown): void
  /** RFC 9449: the replay store, window and nonce rule of DPoP proofs; without it a proof is refused. */
  dpop?: DpopPolicy
  /** Spans around client authentication and the grant (OpenTelemetry when configured); none when omitted. */
  tracer?: Tracer
}

/** How an access token was presented at a resource (RFC 6750 §2.1, RFC 9449 §7.1). */
export interface TokenPresentation {
  scheme: 'Bearer' | 'DPoP'
  token: string
  /** The request's `DPoP` header (undefined: none) with its method and URL. */
  dpop: { proof: string | undefined; method: string; url: string }
}

/** A refusal of a presented token: RFC 6750 §3.1 / RFC 9449 §7.1 error code and why. */
export type PresentationRefusal = { ok: false; error: 'invalid_token' | 'invalid_dpop_proof'; description: string; refusal?: AccessTokenRefusal }

/**
 * The token engine: TokenRequest → TokenResult | OAuthError. Dialects call it; it knows
 * nothing of HTTP or SQL.
 */
export class Engine {
  readonly #deps: EngineDeps
  readonly #grants: ReadonlyMap<string, Grant>
  readonly #grantDeps: GrantDeps
  readonly #assertions: ClientAssertionVerifier

  constructor(deps: EngineDeps) {
    this.#deps = deps
    const keys = new ClientKeys({ clock: deps.clock, ...(deps.clientKeySource ? { source: deps.clientKeySource } : {}), ...(deps.onClientKeysError ? { onFetchError: deps.onClientKeysError } : {}) })
    this.#assertions = new ClientAssertionVerifier({ issuer: deps.tokens.issuer, clock: deps.clock, keys, ...(deps.assertionJtis ? { jtis: deps.assertionJtis } : {}) })
    this.#grants = createGrantRegistry(deps.grantTypes)
    this.#grantDeps = {
      tokens: deps.tokens,
      clock: deps.clock,
      users: deps.users,
      refreshTokens: deps.refreshTokens,
      grants: deps.grants,
      apiKeys: deps.apiKeys,
      clients: deps.clients,
      ...(deps.observer ? { observer: deps.observer } : {}),
      ...(deps.guard ? { guard: deps.guard } : {}),
      ...(deps.reuse ? { reuse: deps.reuse } : {}),
      ...(deps.operators ? { operators: deps.operators } : {}),
      ...(deps.apis ? { apis: deps.apis } : {}),
      ...(deps.authorizationCodes ? { authorizationCodes: deps.authorizationCodes } : {}),
      ...(deps.deviceAuthorizations ? { deviceAuthorizations: deps.deviceAuthorizations } : {}),
      inspectAccessToken: (token) => this.inspectAccessToken(token),
    }
  }

  get supportedGrantTypes(): string[] {
    return [...this.#grants.keys()]
  }

  async token(request: TokenRequest): Promise<TokenResult> {
    // A caller with bad client credentials hears invalid_client before anything about grant
    // types, as IdentityServer answers; credentials are checked once either way.
    const policy = request.policy ?? STANDARD_POLICY
    if (!this.#serves(request.grantType, policy) && request.client) await this.authenticateClient(request.client, request.origin)
    const grant = this.#findGrant(request.grantType, policy)
    const needsClient = typeof grant.requiresClientAuthentication === 'function' ? grant.requiresClientAuthentication(request) : grant.requiresClientAuthentication
    const client = needsClient ? await this.authenticateClient(request.client, request.origin) : undefined
    if (client) checkGrantAllowed(client, grant)
    const dpopJkt = await this.#checkTokenRequestProof(request, client)
    const result = await traced(this.#deps.tracer, `grant ${grant.grantType}`, { 'gatehouse.grant_type': grant.grantType }, async (span) => {
      const issued = await grant.handle(dpopJkt === undefined ? { request, client, policy } : { request, client, policy, dpopJkt }, this.#grantDeps)
      span.set({ 'gatehouse.outcome': 'token_issued' })
      return issued
    })
    this.#deps.observer?.tokenIssued?.({ clientId: result.clientId, grantType: grant.grantType, subject: result.subject })
    return result
  }

  /**
   * RFC 6749 §2.3.1, RFC 7523 §2.2; a failure is reported to the observer (audit) with the
   * claimed id only. `origin.endpointPath` is the route a client assertion's `aud` may name.
   */
  authenticateClient(credentials: ClientCredentials | undefined, origin?: RequestOrigin): Promise<Client> {
    return traced(this.#deps.tracer, 'client_authentication', {}, async (span) => {
      const client = await this.#authenticateClient(credentials, origin)
      // A client id is an identifier, not a secret (RFC 6749 §2.2); the method says how it proved itself.
      span.set({ 'gatehouse.client_id': client.id, 'gatehouse.client_auth_method': client.tokenEndpointAuthMethod })
      return client
    })
  }

  async #authenticateClient(credentials: ClientCredentials | undefined, origin?: RequestOrigin): Promise<Client> {
    let client: Client
    try {
      client = await authenticateClient({ clients: this.#deps.clients, assertions: this.#assertions }, credentials, origin?.endpointPath)
    } catch (error) {
      if (error instanceof OAuthError && error.code === 'invalid_client') {
        this.#deps.observer?.authenticationFailed?.({
          kind: 'client',
          id: credentials?.clientId ?? '',
          reason: error.debug ?? 'no client credentials',
          ...(origin?.ip !== undefined ? { ip: origin.ip } : {}),
        })
        const throttled = await this.#deps.guard?.credentialFailed('client', credentials?.clientId ?? '')
        if (throttled) throw throttled
      }
      throw error
    }
    // Counted only once proven: naming a client id does not spend that client's quota.
    await this.#deps.guard?.admitClient(client.id)
    return client
  }

  /**
   * RFC 7662: the caller must be an authenticated client; it may ask about any token but one
   * for Gatehouse's own admin audience, which only an operator client may see (§4: the server
   * decides what a caller may learn; to anyone else it is just `active: false`, §2.2).
   */
  async introspect(credentials: ClientCredentials | undefined, token: string, origin?: RequestOrigin): Promise<TokenIntrospection> {
    const client = await this.authenticateClient(credentials, origin)
    // RFC 7662 §2.1: the caller is a protected resource; a public client (no secret) is none.
    if (client.tokenEndpointAuthMethod === 'none') throw new OAuthError('invalid_client', { description: 'Client authentication is required.', debug: 'public client at introspection' })
    const result = await introspectToken(this.#deps, token)
    if (result.active && isAdminAudience(result.audience, this.#deps.tokens.issuer) && !(await this.#isOperatorClient(client))) return { active: false }
    return result
  }

  /** On the operator list as a client (any role): the management API's own callers. */
  async #isOperatorClient(client: Client): Promise<boolean> {
    return (await this.#deps.operators?.getOperator('client', client.id)) !== undefined
  }

  /**
   * In-process introspection for Gatehouse's own protected routes (the management API): the
   * same checks as RFC 7662 — signature, expiry, revocation — without a calling client.
   */
  inspectAccessToken(token: string): Promise<TokenIntrospection> {
    return introspectToken(this.#deps, token).then((result) => (result.tokenKind === 'refresh_token' ? { active: false } : result))
  }

  /** As inspectAccessToken, keeping why a token is refused (for the management API's own answers). */
  checkAccessToken(token: string): Promise<{ ok: true; token: TokenIntrospection } | ({ ok: false } & AccessTokenRefusal)> {
    return checkAccessToken(this.#deps, token)
  }

  /** OpenID Connect Core §5.3: the user claims a bearer access token entitles its holder to. */
  async userInfo(accessToken: string): Promise<UserInfoResult> {
    const token = await introspectToken(this.#deps, accessToken)
    // RFC 9449 §7.2: a DPoP-bound token is no bearer token; presented as one it is refused.
    if (token.active && token.jkt !== undefined) return { ok: false, error: 'invalid_token', dpopBound: true }
    return userInfo(this.#deps, token)
  }

  /** OpenID Connect Core §5.3 for a token already checked (checkPresentedToken: a DPoP presentation). */
  userInfoOf(token: TokenIntrospection): Promise<UserInfoResult> {
    return userInfo(this.#deps, token)
  }

  /** The `iss` of its tokens, the base of its endpoint URLs (DPoP `htu`). */
  get issuer(): string {
    return this.#deps.tokens.issuer
  }

  /** RFC 7009: revokes a token of the calling client; anything else is ignored (§2.2). */
  async revoke(credentials: ClientCredentials | undefined, token: string, origin?: RequestOrigin): Promise<void> {
    const client = await this.authenticateClient(credentials, origin)
    await revokeToken(this.#deps, client, token)
  }

  /**
   * RFC 9449 §5: a valid proof gives the key the tokens are bound to; a client with
   * `requireDpop` must send one. A proof where DPoP is not set up is refused, not ignored.
   */
  async #checkTokenRequestProof(request: TokenRequest, client: Client | undefined): Promise<string | undefined> {
    const proof = request.dpop?.proof
    if (proof === undefined || request.dpop === undefined) {
      if (client?.requireDpop) throw new OAuthError('invalid_dpop_proof', { description: 'This client must send a DPoP proof.' })
      return undefined
    }
    if (!this.#deps.dpop) throw new OAuthError('invalid_dpop_proof', { description: 'DPoP proofs are not accepted here.' })
    const { jkt } = await checkDpopProof({ proof, method: request.dpop.method, url: request.dpop.url }, this.#deps.dpop, this.#deps.clock.now())
    return jkt
  }

  /**
   * A token presented at one of Gatehouse's own resources (UserInfo, the management API): the
   * checks of checkAccessToken, then RFC 9449 §7.1. `DPoP` needs a valid proof with `ath` by
   * the key the token is bound to; a DPoP-bound token presented as `Bearer` is refused, as is an
   * unbound one presented as `DPoP`. Resources ask no server nonce.
   */
  async checkPresentedToken(presentation: TokenPresentation): Promise<{ ok: true; token: TokenIntrospection } | PresentationRefusal> {
    let jkt: string | undefined
    if (presentation.scheme === 'DPoP') {
      const proof = presentation.dpop.proof
      if (proof === undefined) return { ok: false, error: 'invalid_dpop_proof', description: 'A DPoP proof is required with the DPoP scheme.' }
      if (!this.#deps.dpop) return { ok: false, error: 'invalid_dpop_proof', description: 'DPoP proofs are not accepted here.' }
      try {
        jkt = (await checkDpopProof({ proof, method: presentation.dpop.method, url: presentation.dpop.url, accessToken: presentation.token }, { ...this.#deps.dpop, requireNonce: false }, this.#deps.clock.now())).jkt
      } catch (error) {
        if (error instanceof OAuthError && error.code === 'invalid_dpop_proof') return { ok: false, error: 'invalid_dpop_proof', description: error.description ?? 'The DPoP proof is invalid.' }
        throw error
      }
    }
    const checked = await checkAccessToken(this.#deps, presentation.token)
    if (!checked.ok) return { ok: false, error: 'invalid_token', description: 'The access token is invalid or expired.', refusal: checked }
    const bound = checked.token.jkt
    if (presentation.scheme === 'Bearer' && bound !== undefined) return { ok: false, error: 'invalid_token', description: 'This access token is DPoP-bound: present it with the DPoP scheme and a proof.' }
    if (presentation.scheme === 'DPoP' && bound === undefined) return { ok: false, error: 'invalid_token', description: 'This access token is not DPoP-bound: present it with the Bearer scheme.' }
    if (presentation.scheme === 'DPoP' && bound !== jkt) return { ok: false, error: 'invalid_token', description: 'Invalid DPoP key binding.' }
    return checked
  }

  /** Whether this grant type is registered and the dialect's endpoint offers it. */
  #serves(grantType: string, policy: DialectPolicy): boolean {
    const grant = this.#grants.get(grantType)
    return grant !== undefined && (policy.grantTypes === undefined || policy.grantTypes.includes(grant.grantType))
  }

  #findGrant(grantType: string, policy: DialectPolicy): Grant {
    if (grantType === '') throw new OAuthError('invalid_request', { description: 'The grant_type parameter is required.' })
    const grant = this.#serves(grantType, policy) ? this.#grants.get(grantType) : undefined
    if (!grant) throw new OAuthError('unsupported_grant_type', { description: `The grant type '${grantType}' is not supported.` })
    return grant
  }
}

/** RFC 6749 §5.2 unauthorized_client: the client may not use this grant type. */
function checkGrantAllowed(client: Client, grant: Grant): void {
  if (!client.grantTypes.includes(grant.grantType)) {
    throw new OAuthError('unauthorized_client', { description: `This client may not use the ${grant.grantType} grant.` })
  }
}
