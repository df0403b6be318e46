/**
 * `gatehouse-client`: a token client that keeps one access token fresh for any number of
 * callers. It depends on the platform only (fetch), never on server code.
 */
import { canary, type ApiKeyCredentials } from './dialects/canary.js'
import type { ClientAuthentication, IssuedToken, TokenDialect, WireContext } from './dialects/dialect.js'
import { identityserver } from './dialects/identityserver.js'
import { standard, type ClientSecretCredentials, type OAuthCredentials, type PasswordCredentials } from './dialects/rfc6749.js'
import { wrapped } from './dialects/wrapped.js'
import { asksForNonce, DpopSigner, type DpopCryptoKey, type DpopKeyPair, type DpopPublicJwk } from './dpop-client.js'
import { TokenClientError, type TokenDialectName } from './token-client-error.js'

export { TokenClientError }
export type { DpopCryptoKey, DpopKeyPair, DpopPublicJwk }
export { deviceLogin, DEVICE_CODE_GRANT_TYPE, type DeviceCodePrompt, type DeviceLoginOptions, type DeviceLoginTokens } from './device-login.js'
export type { ApiKeyCredentials, ClientAuthentication, ClientSecretCredentials, OAuthCredentials, PasswordCredentials, TokenDialectName }
export type { PrivateKeyJwtCredentials } from './client-assertion.js'

/**
 * Milliseconds since the epoch; inject one to control time in tests.
 *
 * @example
 * ```ts
 * let now = Date.now()
 * const clock: TokenClientClock = { now: () => now }
 * const tokens = createTokenClient({ issuer, dialect: 'standard', credentials, clock })
 * now += 3_600_000 // the cached token has expired: the next getToken() fetches one
 * ```
 */
export interface TokenClientClock {
  now(): number
}

/**
 * Options every dialect shares. Give `issuer` (the server's base URL) or `tokenUrl`.
 *
 * @example
 * ```ts
 * const common: TokenClientBaseOptions = {
 *   tokenUrl: 'https://auth.example.com/oauth/token',
 *   scope: ['api', 'read'],
 *   refreshAheadSeconds: 120,
 *   clientAuthentication: 'client_secret_post',
 * }
 * ```
 */
export interface TokenClientBaseOptions {
  /** The Gatehouse base URL, e.g. `https://auth.example.com`; the dialect's path is appended. */
  issuer?: string
  /** The full token endpoint URL; overrides `issuer` + the dialect's path. */
  tokenUrl?: string
  /** Canary only: the refresh endpoint (default: `/v2/oauth/refresh-tokens` beside the token URL). */
  refreshUrl?: string
  /** Requested scope (RFC 6749 §3.3), as a space-separated string or a list. Omit for the client's default. */
  scope?: string | readonly string[]
  /**
   * How long before expiry to fetch the next token, in seconds (default 60, never more than half
   * the token's lifetime). Callers keep getting the current token meanwhile.
   */
  refreshAheadSeconds?: number
  /** standard / identityserver: how to send the client secret (default: Basic for standard, post for identityserver). */
  clientAuthentication?: ClientAuthentication
  /** The fetch to use, for the token endpoint and for `authFetch` (default: the global fetch). */
  fetch?: typeof globalThis.fetch
  clock?: TokenClientClock
  /**
   * DPoP (RFC 9449), standard and identityserver dialects: every token request carries a proof
   * signed with this key (`true`: an ES256 key pair generated with WebCrypto, its private half not
   * extractable), so the server binds the access token to the key (`token_type: DPoP`); a
   * `use_dpop_nonce` refusal is retried once with the server's `DPoP-Nonce`. `authFetch` then
   * sends `Authorization: DPoP <token>` with a fresh proof (`ath`) per request, and retries once
   * on a resource's `use_dpop_nonce`. A stolen token is useless without the private key.
   *
   * @example
   * ```ts
   * const tokens = createTokenClient({ issuer, dialect: 'standard', credentials, dpop: true })
   * const response = await tokens.authFetch('https://api.example.com/records') // Authorization: DPoP …, DPoP: eyJ0eXAiOiJkcG9wK2p3dCIs…
   * ```
   */
  dpop?: DpopKeyPair | true
}

/**
 * Which credentials each dialect takes: a discriminated union on `dialect`.
 *
 * @example
 * ```ts
 * const canaryOptions: TokenClientOptions = { issuer, dialect: 'canary', credentials: { apiKey: 'A1B2C3:…' } }
 * const wrappedOptions: TokenClientOptions = { issuer, dialect: 'wrapped', credentials: { clientId, clientSecret } }
 * ```
 */
export type TokenClientOptions = TokenClientBaseOptions &
  (
    | { dialect: 'standard' | 'identityserver'; credentials: OAuthCredentials }
    | { dialect: 'canary'; credentials: ApiKeyCredentials }
    | { dialect: 'wrapped'; credentials: ClientSecretCredentials }
  )

/**
 * A token client; see {@link createTokenClient}.
 *
 * @example
 * ```ts
 * const tokens: TokenClient = createTokenClient({ issuer, dialect: 'standard', credentials })
 * const headers = { authorization: `Bearer ${await tokens.getToken()}` }
 * const response = await tokens.authFetch('https://api.example.com/things', { method: 'POST', body: '{}' })
 * ```
 */
export interface TokenClient {
  readonly dialect: TokenDialectName
  /**
   * A valid access token: the cached one, or a new one when it has expired (one request however
   * many callers wait). Rejects with a {@link TokenClientError}.
   */
  getToken(): Promise<string>
  /**
   * fetch with `Authorization: Bearer …` (with the `dpop` option and a DPoP token:
   * `Authorization: DPoP …` and a `DPoP` proof for this method and URL). On a 401 it fetches a
   * fresh token and retries once (unless the body is a stream, which cannot be sent twice); a
   * DPoP `use_dpop_nonce` 401 is first retried once with the resource's `DPoP-Nonce`.
   */
  authFetch(input: string | URL, init?: RequestInit): Promise<Response>
  /**
   * Fetches a new token now, or joins the request already on its way (for example a refresh
   * ahead of expiry that {@link TokenClient.getToken} started in the background).
   */
  renew(): Promise<string>
  /** Forgets the cached access token (the refresh token is kept), e.g. after a permission change. */
  invalidate(): void
}

interface CachedToken {
  accessToken: string
  tokenType: 'Bearer' | 'DPoP'
  /** When the token stops being valid (ms); Infinity when neither the answer nor the token says. */
  expiresAt: number
  /** From here on a new token is fetched in the background. */
  refreshAt: number
}

const DEFAULT_REFRESH_AHEAD_SECONDS = 60
/** After a failed background refresh, wait this long before trying again ahead of expiry. */
const AHEAD_RETRY_MS = 5_000

/**
 * Creates a token client for one of Gatehouse's dialects. It caches the token, fetches the next
 * one ahead of expiry (with the refresh token when it has one, else by authenticating again;
 * again too when the refresh token is refused), and lets only one request run at a time.
 *
 * @example
 * ```ts
 * import { createTokenClient } from 'gatehouse-client'
 *
 * const tokens = createTokenClient({
 *   issuer: 'https://auth.example.com',
 *   dialect: 'standard',
 *   credentials: { clientId: process.env.CLIENT_ID!, clientSecret: process.env.CLIENT_SECRET! },
 *   scope: ['api'],
 * })
 * const response = await tokens.authFetch('https://api.example.com/things')
 * ```
 *
 * @example
 * ```ts
 * // Seed 001: IdentityServer's password grant; the refresh token keeps the session going.
 * const tokens = createTokenClient({
 *   issuer: 'https://auth.example.com',
 *   dialect: 'identityserver',
 *   credentials: { clientId, clientSecret, username: 'ada@example.com', password },
 *   scope: 'openid offline_access email profile integrated-api',
 * })
 * // Canary API key: createTokenClient({ issuer, dialect: 'canary', credentials: { apiKey } })
 * ```
 */
export function createTokenClient(options: TokenClientOptions): TokenClient {
  switch (options.dialect) {
    case 'standard':
      return new CachingTokenClient(standard, options.credentials, options, 'client_secret_basic')
    case 'identityserver':
      return new CachingTokenClient(identityserver, options.credentials, options, 'client_secret_post')
    case 'canary':
      if (options.dpop !== undefined) throw new TypeError('dpop works with the standard and identityserver dialects')
      return new CachingTokenClient(canary, options.credentials, options, 'client_secret_basic')
    case 'wrapped':
      if (options.dpop !== undefined) throw new TypeError('dpop works with the standard and identityserver dialects')
      return new CachingTokenClient(wrapped, options.credentials, options, 'client_secret_post')
    default:
      throw new TypeError(`unknown dialect "${(options as { dialect: unknown }).dialect}"`)
  }
}

class CachingTokenClient<Credentials> implements TokenClient {
  readonly #dialect: TokenDialect<Credentials>
  readonly #credentials: Credentials
  readonly #context: WireContext
  readonly #clock: TokenClientClock
  readonly #refreshAheadMs: number
  #current: CachedToken | undefined
  #refreshToken: string | undefined
  #inflight: Promise<CachedToken> | undefined
  #aheadRetryAt = 0

  constructor(dialect: TokenDialect<Credentials>, credentials: Credentials, options: TokenClientBaseOptions, defaultAuthentication: ClientAuthentication) {
    this.#dialect = dialect
    this.#credentials = credentials
    this.#clock = options.clock ?? { now: () => Date.now() }
    this.#refreshAheadMs = (options.refreshAheadSeconds ?? DEFAULT_REFRESH_AHEAD_SECONDS) * 1000
    const urls = resolveUrls(dialect, options)
    const fetchImpl = options.fetch ?? globalThis.fetch
    this.#context = {
      fetch: (input, init) => fetchImpl(input, init),
      ...urls,
      clientAuthentication: options.clientAuthentication ?? defaultAuthentication,
      scope: normaliseScope(options.scope),
      // A client assertion names the server by its issuer (RFC 7523 §3), or by the token URL when only that was given.
      audience: options.issuer?.replace(/\/+$/, '') ?? urls.tokenUrl,
      now: () => this.#clock.now(),
      dpop: options.dpop === undefined ? undefined : new DpopSigner(options.dpop, () => this.#clock.now()),
    }
  }

  get dialect(): TokenDialectName {
    return this.#dialect.name
  }

  async getToken(): Promise<string> {
    return (await this.#valid()).accessToken
  }

  /** The cached token while it is valid (renewing ahead of expiry in the background), else a new one. */
  async #valid(): Promise<CachedToken> {
    const now = this.#clock.now()
    const current = this.#current
    if (current && now < current.refreshAt) return current
    if (current && now < current.expiresAt) {
      this.#renewAhead(now)
      return current
    }
    return this.#renew()
  }

  async authFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const token = await this.#valid()
    const first = await this.#send(input, init, token)
    if (first.status !== 401 || !isReplayable(init.body)) return first
    // RFC 6750 §3.1 invalid_token: the token was revoked or expired early; get another, once.
    await first.body?.cancel()
    this.#forget(token.accessToken)
    return this.#send(input, init, await this.#valid())
  }

  /** One request with the token; a DPoP token gets a fresh proof, and one retry on use_dpop_nonce (RFC 9449 §9). */
  async #send(input: string | URL, init: RequestInit, token: CachedToken): Promise<Response> {
    const dpop = this.#context.dpop
    if (token.tokenType !== 'DPoP' || dpop === undefined) return this.#context.fetch(input, withAuthorization(init, `Bearer ${token.accessToken}`))
    const method = init.method ?? 'GET'
    const attempt = async (): Promise<Response> => {
      const headers = new Headers(init.headers)
      headers.set('authorization', `DPoP ${token.accessToken}`)
      headers.set('dpop', await dpop.proof(method, input, token.accessToken))
      return this.#context.fetch(input, { ...init, headers })
    }
    const first = await attempt()
    const fresh = dpop.rememberNonce(input, first.headers)
    if (!fresh || !asksForNonce(first) || !isReplayable(init.body)) return first
    await first.body?.cancel()
    return attempt()
  }

  async renew(): Promise<string> {
    return (await this.#renew()).accessToken
  }

  invalidate(): void {
    this.#current = undefined
  }

  /** Drops the token only if it is still the cached one, so 100 failed callers cause one renewal. */
  #forget(token: string): void {
    if (this.#current?.accessToken === token) this.#current = undefined
  }

  #renewAhead(now: number): void {
    if (this.#inflight || now < this.#aheadRetryAt) return
    // The current token is still valid: a failure here is retried later, not thrown at the caller.
    this.#renew().catch(() => {
      this.#aheadRetryAt = this.#clock.now() + AHEAD_RETRY_MS
    })
  }

  /** Single flight: every caller that needs a new token waits on the same request. */
  #renew(): Promise<CachedToken> {
    this.#inflight ??= this.#obtain().finally(() => {
      this.#inflight = undefined
    })
    return this.#inflight
  }

  async #obtain(): Promise<CachedToken> {
    const requestedAt = this.#clock.now()
    const issued = (await this.#refresh()) ?? (await this.#dialect.authenticate(this.#context, this.#credentials))
    // RFC 6749 §6: an answer without a new refresh token leaves the old one in use.
    if (issued.refreshToken !== undefined) this.#refreshToken = issued.refreshToken
    this.#current = dateToken(issued, requestedAt, this.#refreshAheadMs)
    return this.#current
  }

  /** Uses the refresh token when there is one; undefined when there is none or it was refused. */
  async #refresh(): Promise<IssuedToken | undefined> {
    const refreshToken = this.#refreshToken
    if (refreshToken === undefined || !this.#dialect.refresh) return undefined
    try {
      return await this.#dialect.refresh(this.#context, this.#credentials, refreshToken)
    } catch (error) {
      if (!isRefusal(error)) throw error
      // Refused (expired, revoked, rotated away): forget it and authenticate again.
      if (this.#refreshToken === refreshToken) this.#refreshToken = undefined
      return undefined
    }
  }
}

/** A 4xx answer means the server looked at the refresh token and said no; 5xx or no answer does not. */
function isRefusal(error: unknown): boolean {
  return error instanceof TokenClientError && error.status !== undefined && error.status >= 400 && error.status < 500
}

/** Expiry is counted from when the request was sent, so a slow answer errs on the early side. */
function dateToken(issued: IssuedToken, requestedAt: number, refreshAheadMs: number): CachedToken {
  const lifetimeSeconds = issued.expiresIn ?? jwtLifetime(issued.accessToken, requestedAt)
  const tokenType = issued.tokenType ?? 'Bearer'
  if (lifetimeSeconds === undefined) return { accessToken: issued.accessToken, tokenType, expiresAt: Infinity, refreshAt: Infinity }
  const lifetimeMs = lifetimeSeconds * 1000
  const expiresAt = requestedAt + lifetimeMs
  return { accessToken: issued.accessToken, tokenType, expiresAt, refreshAt: expiresAt - Math.min(refreshAheadMs, lifetimeMs / 2) }
}

/** Seconds left by a JWT's `exp` (RFC 7519 §4.1.4) when the answer carries no expires_in. Not verified: a hint only. */
function jwtLifetime(token: string, now: number): number | undefined {
  const payload = token.split('.')[1]
  if (payload === undefined || token.split('.').length !== 3) return undefined
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown }
    return typeof claims.exp === 'number' ? Math.max(0, claims.exp - Math.floor(now / 1000)) : undefined
  } catch {
    return undefined
  }
}

function resolveUrls(dialect: TokenDialect<unknown>, options: TokenClientBaseOptions): { tokenUrl: string; refreshUrl: string } {
  const issuer = options.issuer?.replace(/\/+$/, '')
  const tokenUrl = options.tokenUrl ?? (issuer === undefined ? undefined : issuer + dialect.paths.token)
  if (tokenUrl === undefined) throw new TypeError('createTokenClient needs an issuer or a tokenUrl')
  const refreshPath = dialect.paths.refresh
  const refreshUrl =
    options.refreshUrl ?? (refreshPath === undefined ? tokenUrl : issuer !== undefined ? issuer + refreshPath : new URL(refreshPath, tokenUrl).toString())
  return { tokenUrl, refreshUrl }
}

function normaliseScope(scope: string | readonly string[] | undefined): string | undefined {
  if (scope === undefined) return undefined
  const joined = typeof scope === 'string' ? scope.trim() : scope.join(' ')
  return joined === '' ? undefined : joined
}

function withAuthorization(init: RequestInit, authorization: string): RequestInit {
  const headers = new Headers(init.headers)
  headers.set('authorization', authorization)
  return { ...init, headers }
}

/** A stream can be read once; strings, buffers, forms and blobs can be sent again. */
function isReplayable(body: RequestInit['body']): boolean {
  return !(typeof ReadableStream !== 'undefined' && body instanceof ReadableStream)
}

// Signing people in (authorization code + PKCE, OpenID Connect): see authorization-code.ts.
export { finishAuthorization, startAuthorization, verifyIdToken } from './authorization-code.js'
export type { AuthorizationCodeOptions, IdTokenClaims, PendingAuthorization, SignedIn } from './authorization-code.js'
