/**
 * Authorization code + PKCE for a server-side web app (RFC 6749 §4.1, RFC 7636, OpenID Connect
 * Core §3.1): build the sign-in URL, finish the callback, verify the ID token. Platform only —
 * fetch and WebCrypto, in Node 20+ and browsers alike; no package.
 */
import { TokenClientError } from './token-client-error.js'

/**
 * A relying party: who it is and where the person comes back.
 *
 * @example
 * ```ts
 * const app: AuthorizationCodeOptions = {
 *   issuer: 'https://auth.example.com',
 *   clientId: process.env.CLIENT_ID!,
 *   clientSecret: process.env.CLIENT_SECRET, // omit for a public client (SPA, native app)
 *   redirectUri: 'https://app.example.com/callback',
 *   scope: 'openid profile email offline_access',
 * }
 * ```
 */
export interface AuthorizationCodeOptions {
  /** The Gatehouse base URL (its `iss`); `/.well-known/openid-configuration` is read from it once. */
  issuer: string
  clientId: string
  /** A confidential client's secret (sent with HTTP Basic); omit for a public client. */
  clientSecret?: string
  /** Exactly one of the client's registered redirect URIs. */
  redirectUri: string
  /** Requested scope; include `openid` for an ID token. */
  scope?: string | readonly string[]
  fetch?: typeof globalThis.fetch
  /** Milliseconds since the epoch (ID token expiry); default Date.now. */
  now?: () => number
}

/** What to keep (in the user's server-side session) between the redirect and the callback. */
export interface PendingAuthorization {
  /** Send the browser here. */
  url: string
  state: string
  nonce: string
  codeVerifier: string
}

/** The tokens of a finished sign-in; `claims` are the verified ID token's. */
export interface SignedIn {
  accessToken: string
  tokenType: string
  expiresIn: number | undefined
  refreshToken: string | undefined
  scope: string | undefined
  idToken: string | undefined
  claims: IdTokenClaims | undefined
}

/** OpenID Connect Core §2 claims, as verified. */
export interface IdTokenClaims {
  iss: string
  sub: string
  aud: string | string[]
  exp: number
  iat: number
  auth_time?: number
  nonce?: string
  sid?: string
  name?: string
  email?: string
  [claim: string]: unknown
}

interface ProviderMetadata {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  jwks_uri: string
}

/** The public members of a published key (RFC 7517 §4, RFC 7518 §6). */
interface Jwk {
  kty?: string
  crv?: string
  x?: string
  y?: string
  n?: string
  e?: string
  kid?: string
  alg?: string
  use?: string
}

const metadataCache = new Map<string, Promise<ProviderMetadata>>()
const keyCache = new Map<string, Promise<Jwk[]>>()

const failure = (code: string, description: string, status?: number, cause?: unknown): TokenClientError =>
  new TokenClientError({ code, description, dialect: 'standard', ...(status !== undefined ? { status } : {}), ...(cause !== undefined ? { cause } : {}) })

const base64url = (bytes: Uint8Array): string => {
  let text = ''
  for (const byte of bytes) text += String.fromCharCode(byte)
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
const fromBase64url = (text: string): Uint8Array => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (char) => char.charCodeAt(0))
const random = (bytes = 32): string => base64url(globalThis.crypto.getRandomValues(new Uint8Array(bytes)))

async function fetchJson(options: AuthorizationCodeOptions, url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const fetcher = options.fetch ?? globalThis.fetch
  let response: Response
  try {
    response = await fetcher(url, init)
  } catch (error) {
    throw failure('request_failed', `could not reach ${url}`, undefined, error)
  }
  const body: unknown = await response.json().catch(() => undefined)
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw failure('invalid_response', `${url} did not answer JSON`, response.status)
  return { status: response.status, body: body as Record<string, unknown> }
}

function metadata(options: AuthorizationCodeOptions): Promise<ProviderMetadata> {
  const issuer = options.issuer.replace(/\/+$/, '')
  let cached = metadataCache.get(issuer)
  if (!cached) {
    cached = fetchJson(options, `${issuer}/.well-known/openid-configuration`).then(({ body }) => {
      const { issuer: named, authorization_endpoint, token_endpoint, jwks_uri } = body
      // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
      if (named !== issuer || typeof authorization_endpoint !== 'string' || typeof token_endpoint !== 'string' || typeof jwks_uri !== 'string') {
        throw failure('invalid_response', `the discovery document of ${issuer} does not describe it`)
      }
      return { issuer, authorization_endpoint, token_endpoint, jwks_uri }
    })
    cached.catch(() => metadataCache.delete(issuer))
    metadataCache.set(issuer, cached)
  }
  return cached
}

/**
 * Starts a sign-in: a fresh state, nonce and PKCE verifier (S256), and the URL to send the
 * browser to. Keep the returned values for {@link finishAuthorization}; never put them in a
 * place the browser can change.
 *
 * @example
 * ```ts
 * import { startAuthorization } from 'gatehouse-client'
 * app.get('/login', async (request, reply) => {
 *   const pending = await startAuthorization(options)
 *   request.session.pending = pending
 *   return reply.redirect(pending.url)
 * })
 * ```
 */
export async function startAuthorization(options: AuthorizationCodeOptions, extra: Record<string, string> = {}): Promise<PendingAuthorization> {
  const provider = await metadata(options)
  const codeVerifier = random(32)
  const challenge = base64url(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(codeVerifier))))
  const state = random(16)
  const nonce = random(16)
  const url = new URL(provider.authorization_endpoint)
  const scope = typeof options.scope === 'string' ? options.scope : (options.scope ?? ['openid']).join(' ')
  const parameters: Record<string, string> = { response_type: 'code', client_id: options.clientId, redirect_uri: options.redirectUri, scope, state, nonce, code_challenge: challenge, code_challenge_method: 'S256', ...extra }
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value)
  return { url: url.toString(), state, nonce, codeVerifier }
}

/**
 * Finishes a sign-in at the redirect URI: checks `state` and `iss` (RFC 9207), exchanges the
 * code with the PKCE verifier, and verifies the ID token (signature by the issuer's published
 * key, `iss`, `aud`, `exp`, `nonce`). Rejects with a TokenClientError whose `code` is the
 * server's (`access_denied`, `invalid_grant`, …) or `invalid_response`.
 *
 * @example
 * ```ts
 * import { finishAuthorization } from 'gatehouse-client'
 * app.get('/callback', async (request, reply) => {
 *   const signedIn = await finishAuthorization(options, new URL(request.url, 'https://app.example.com'), request.session.pending)
 *   request.session.user = signedIn.claims?.sub
 *   return reply.redirect('/')
 * })
 * ```
 */
export async function finishAuthorization(options: AuthorizationCodeOptions, callback: string | URL, pending: Omit<PendingAuthorization, 'url'>): Promise<SignedIn> {
  const provider = await metadata(options)
  const answer = new URL(callback).searchParams
  if (answer.get('state') !== pending.state) throw failure('invalid_response', 'the state in the callback is not the one this sign-in sent')
  // RFC 9207 §2.4: the answer must come from the issuer the request went to (mix-up attacks).
  if (answer.get('iss') !== provider.issuer) throw failure('invalid_response', 'the callback does not name the expected issuer (iss)')
  const error = answer.get('error')
  if (error !== null) throw failure(error, answer.get('error_description') ?? 'the authorization request was refused')
  const code = answer.get('code')
  if (code === null) throw failure('invalid_response', 'the callback carries neither a code nor an error')

  const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: options.redirectUri, code_verifier: pending.codeVerifier })
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
  if (options.clientSecret === undefined) form.set('client_id', options.clientId)
  else headers.authorization = `Basic ${btoa(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`)}`
  const { status, body } = await fetchJson(options, provider.token_endpoint, { method: 'POST', headers, body: form.toString() })
  if (status !== 200) throw failure(typeof body.error === 'string' ? body.error : 'invalid_response', typeof body.error_description === 'string' ? body.error_description : 'the token endpoint refused the code', status)
  if (typeof body.access_token !== 'string' || typeof body.token_type !== 'string') throw failure('invalid_response', 'the token answer has no access token', status)
  const idToken = typeof body.id_token === 'string' ? body.id_token : undefined
  return {
    accessToken: body.access_token,
    tokenType: body.token_type,
    expiresIn: typeof body.expires_in === 'number' ? body.expires_in : undefined,
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : undefined,
    scope: typeof body.scope === 'string' ? body.scope : undefined,
    idToken,
    claims: idToken === undefined ? undefined : await verifyIdToken(options, idToken, { nonce: pending.nonce }),
  }
}

function keysOf(options: AuthorizationCodeOptions, jwksUri: string, refresh = false): Promise<Jwk[]> {
  let cached = keyCache.get(jwksUri)
  if (!cached || refresh) {
    cached = fetchJson(options, jwksUri).then(({ body }) => (Array.isArray(body.keys) ? (body.keys as Jwk[]) : []))
    cached.catch(() => keyCache.delete(jwksUri))
    keyCache.set(jwksUri, cached)
  }
  return cached
}

const ALGORITHMS = {
  ES256: { import: { name: 'ECDSA', namedCurve: 'P-256' }, verify: { name: 'ECDSA', hash: 'SHA-256' } },
  RS256: { import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, verify: { name: 'RSASSA-PKCS1-v1_5' } },
} as const

/**
 * Verifies an ID token (OpenID Connect Core §3.1.3.7): ES256 or RS256 only (never `none` or
 * HMAC), by the issuer's published key of that `kid` and algorithm (the key set is fetched again
 * once for an unknown `kid`, after a rotation), then `iss`, `aud` (this client), `exp` and, when
 * given, `nonce`. Returns the claims; rejects with `invalid_response` otherwise.
 *
 * @example
 * ```ts
 * const claims = await verifyIdToken(options, idToken, { nonce: pending.nonce })
 * console.log(`signed in: ${claims.sub}`)
 * ```
 */
export async function verifyIdToken(options: AuthorizationCodeOptions, idToken: string, expected: { nonce?: string } = {}): Promise<IdTokenClaims> {
  const provider = await metadata(options)
  const [header64, payload64, signature64, extra] = idToken.split('.')
  if (!header64 || !payload64 || !signature64 || extra !== undefined) throw failure('invalid_response', 'the ID token is not a JWS')
  let header: { alg?: unknown; kid?: unknown }
  let claims: IdTokenClaims
  try {
    header = JSON.parse(new TextDecoder().decode(fromBase64url(header64))) as { alg?: unknown; kid?: unknown }
    claims = JSON.parse(new TextDecoder().decode(fromBase64url(payload64))) as IdTokenClaims
  } catch (error) {
    throw failure('invalid_response', 'the ID token cannot be read', undefined, error)
  }
  const alg = header.alg === 'ES256' || header.alg === 'RS256' ? header.alg : undefined
  if (alg === undefined) throw failure('invalid_response', `the ID token's algorithm ${String(header.alg)} is not accepted`)
  const find = (keys: Jwk[]) => keys.find((key) => key.kid === header.kid && (key.alg === undefined || key.alg === alg))
  const jwk = find(await keysOf(options, provider.jwks_uri)) ?? find(await keysOf(options, provider.jwks_uri, true))
  if (!jwk) throw failure('invalid_response', 'the ID token is signed by a key the issuer does not publish')
  const key = await globalThis.crypto.subtle.importKey('jwk', jwk, ALGORITHMS[alg].import, false, ['verify'])
  const signed = new TextEncoder().encode(`${header64}.${payload64}`)
  if (!(await globalThis.crypto.subtle.verify(ALGORITHMS[alg].verify, key, fromBase64url(signature64), signed))) throw failure('invalid_response', 'the ID token signature does not verify')
  const now = Math.floor((options.now ?? Date.now)() / 1000)
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
  if (claims.iss !== provider.issuer) throw failure('invalid_response', 'the ID token names another issuer')
  if (!audiences.includes(options.clientId)) throw failure('invalid_response', 'the ID token is for another client')
  if (typeof claims.exp !== 'number' || claims.exp + 60 < now) throw failure('invalid_response', 'the ID token has expired')
  if (expected.nonce !== undefined && claims.nonce !== expected.nonce) throw failure('invalid_response', 'the ID token nonce is not the one this sign-in sent')
  return claims
}
