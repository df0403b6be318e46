/**
 * `gatehouse-verify`: what a resource server needs to accept Gatehouse access tokens. JWTs are
 * checked locally against the issuer's JWKS (RFC 9068); opaque tokens through introspection
 * (RFC 7662). The Fastify plugin (`gatehouse-verify/fastify`) and Express middleware
 * (`gatehouse-verify/express`) answer RFC 6750 errors on top of this.
 */
import { BearerTokenError, readAccessToken, readBearerToken, type BearerRequest } from './bearer.js'
import { checkProof, DPOP_ALGORITHMS, MemoryDpopReplayCache, type DpopReplayCache, type DpopRequestInfo, type DpopSettings } from './dpop-proof.js'
import { IntrospectionCache, type IntrospectionAnswer } from './introspection.js'
import { createJwtCheck } from './jwt-access-token.js'

export { BearerTokenError, DPOP_ALGORITHMS, MemoryDpopReplayCache, readAccessToken, readBearerToken }
export type { BearerErrorCode, BearerFailureReason, BearerRequest } from './bearer.js'
export type { DpopReplayCache, DpopRequestInfo, DpopSettings, IntrospectionAnswer }

/**
 * Milliseconds since the epoch; inject one to control time in tests.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ issuer, audience, clock: { now: () => Date.UTC(2026, 0, 1) } })
 * ```
 */
export interface VerifierClock {
  now(): number
}

/**
 * How opaque tokens are checked: the resource server's own client at the introspection endpoint.
 *
 * @example
 * ```ts
 * const introspection: IntrospectionSettings = { clientId: 'worklist-api', clientSecret: process.env.WORKLIST_SECRET!, cacheTtlSeconds: 30 }
 * ```
 */
export interface IntrospectionSettings {
  clientId: string
  clientSecret: string
  /** Default: `{issuer}/oauth/introspect`. */
  url?: string
  /** Longest time an introspection answer is reused, in seconds (default 60): how late a revocation is seen. */
  cacheTtlSeconds?: number
  /** Most answers kept (default 10,000); the oldest goes first. */
  maxEntries?: number
}

/**
 * @example
 * ```ts
 * const options: VerifierOptions = {
 *   issuer: 'https://auth.example.com',
 *   audience: 'worklist-api',
 *   requiredScopes: ['integrated-api'],
 *   introspection: { clientId: 'worklist-api', clientSecret: process.env.WORKLIST_SECRET! },
 * }
 * ```
 */
export interface VerifierOptions {
  /** The Gatehouse issuer; tokens must carry exactly this `iss`. */
  issuer: string
  /** The `aud` this resource server accepts (one of them, if a list). Gatehouse's default `aud` is the issuer. */
  audience: string | string[]
  /** Scopes every token must carry (more can be asked per call). */
  requiredScopes?: readonly string[]
  /** Default: `{issuer}/.well-known/jwks.json`. */
  jwksUri?: string
  /** Leeway for exp / nbf / iat, in seconds (default 5). */
  clockToleranceSeconds?: number
  /** Shortest time between two JWKS fetches caused by unknown `kid`s, in ms (default 30,000). */
  jwksCooldownMs?: number
  /** Keys are fetched again after this long even without an unknown `kid`, in ms (default 600,000). */
  jwksCacheMaxAgeMs?: number
  /** Without it, opaque (non-JWT) tokens are refused as invalid_token. */
  introspection?: IntrospectionSettings
  /**
   * Also ask introspection about JWTs that pass the local checks (needs `introspection`), so a
   * token whose grant has ended (refresh token revoked, user disabled, client deleted, secret
   * rotated with "revoke tokens") is refused within `cacheTtlSeconds`. Off by default: a JWT is
   * then accepted until it expires, whatever happened to its grant (docs/sdk.md).
   */
  checkRevocation?: boolean
  /**
   * DPoP (RFC 9449 §7): a token bound to a key (`cnf.jkt` in the JWT or the introspection answer)
   * is accepted only as `Authorization: DPoP <token>` with a valid `DPoP` proof of that key; as
   * Bearer it is refused. Always on; these settings tune the proof check.
   */
  dpop?: DpopSettings
  fetch?: typeof globalThis.fetch
  clock?: VerifierClock
}

/**
 * A token that passed every check.
 *
 * @example
 * ```ts
 * const token: VerifiedToken = await verifier.verifyRequest(request.headers.authorization)
 * if (!token.scopes.includes('management-api')) console.log(`${token.subject} via ${token.clientId}`)
 * ```
 */
export interface VerifiedToken {
  format: 'jwt' | 'opaque'
  /** `sub`: the user, or the client itself for client_credentials. */
  subject: string
  clientId: string
  scopes: string[]
  /** `exp`, in seconds since the epoch. */
  expiresAt: number
  /** The JWT payload, or the introspection answer. */
  claims: Record<string, unknown>
  /** RFC 9449: the thumbprint of the key the token is bound to (`cnf.jkt`), whose proof came with it. */
  jkt?: string
}

/**
 * Options of one check.
 *
 * @example
 * ```ts
 * await verifier.verify(token, { requiredScopes: ['management-api'] })
 * ```
 */
export interface VerifyCallOptions {
  /** Scopes needed on top of the verifier's `requiredScopes`. */
  requiredScopes?: readonly string[]
  /**
   * The token came as `Authorization: DPoP <token>`: the proof and the request it must name.
   * Without it the token is taken as a bearer token, and a DPoP-bound one is refused.
   */
  dpop?: DpopRequestInfo
}

/**
 * See {@link createVerifier}.
 *
 * @example
 * ```ts
 * const verifier: Verifier = createVerifier({ issuer, audience })
 * const token = await verifier.verify(rawToken)
 * ```
 */
export interface Verifier {
  /** Checks one access token; rejects with a {@link BearerTokenError} (or another error if the issuer cannot be reached). */
  verify(token: string, options?: VerifyCallOptions): Promise<VerifiedToken>
  /**
   * Reads `Authorization: Bearer …` (RFC 6750 §2.1) or `Authorization: DPoP …` with the request's
   * `dpop` (RFC 9449 §7.1), then {@link Verifier.verify}. No header or another scheme rejects with
   * a BearerTokenError whose `code` is undefined.
   */
  verifyRequest(request: BearerRequest | string | undefined, options?: VerifyCallOptions): Promise<VerifiedToken>
  readonly requiredScopes: readonly string[]
}

/**
 * Creates a verifier for access tokens of one Gatehouse issuer.
 *
 * @example
 * ```ts
 * import { createVerifier, BearerTokenError } from 'gatehouse-verify'
 *
 * const verifier = createVerifier({
 *   issuer: 'https://auth.example.com',
 *   audience: 'worklist-api',
 *   requiredScopes: ['integrated-api'],
 * })
 * try {
 *   const token = await verifier.verifyRequest(request.headers.authorization)
 *   console.log(token.subject, token.scopes)
 * } catch (error) {
 *   if (error instanceof BearerTokenError) {
 *     // 400 / 401 / 403 with error.challenge('worklist') as WWW-Authenticate
 *   }
 * }
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const issuer = options.issuer
  const base = issuer.replace(/\/+$/, '')
  const now = options.clock ? () => options.clock!.now() : undefined
  const checkJwt = createJwtCheck({
    issuer,
    audience: options.audience,
    jwksUri: options.jwksUri ?? `${base}/.well-known/jwks.json`,
    clockToleranceSeconds: options.clockToleranceSeconds ?? 5,
    jwksCooldownMs: options.jwksCooldownMs ?? 30_000,
    jwksCacheMaxAgeMs: options.jwksCacheMaxAgeMs ?? 600_000,
    fetch: options.fetch,
    now,
  })
  const introspection = options.introspection
    ? new IntrospectionCache({
        url: options.introspection.url ?? `${base}/oauth/introspect`,
        clientId: options.introspection.clientId,
        clientSecret: options.introspection.clientSecret,
        issuer,
        audience: options.audience,
        cacheTtlSeconds: options.introspection.cacheTtlSeconds ?? 60,
        maxEntries: options.introspection.maxEntries ?? 10_000,
        fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
        now: now ?? Date.now,
      })
    : undefined
  const requiredScopes = [...(options.requiredScopes ?? [])]
  if (options.checkRevocation && !introspection) throw new TypeError('checkRevocation needs the introspection settings (the resource server\'s client id and secret)')
  const revocationCheck = options.checkRevocation ? introspection : undefined

  async function verifyJwt(token: string): Promise<VerifiedToken> {
    const verified = fromJwt(await checkJwt(token))
    // Signature first: a forged token costs no introspection call.
    if (revocationCheck) await revocationCheck.check(token)
    return verified
  }

  const proofCheck = {
    maxAgeSeconds: options.dpop?.maxAgeSeconds ?? 60,
    replay: options.dpop?.replay ?? new MemoryDpopReplayCache(100_000, now ?? Date.now),
    now: now ?? Date.now,
  }

  async function verify(token: string, call: VerifyCallOptions = {}): Promise<VerifiedToken> {
    const verified = isJwt(token) ? await verifyJwt(token) : await verifyOpaque(token)
    const jkt = boundKey(verified.claims)
    // RFC 9449 §7.1, §7.2: the scheme must match the binding, and the proof the key.
    if (jkt === undefined && call.dpop !== undefined) {
      throw new BearerTokenError('invalid_token', 'dpop_binding', 'The access token is not DPoP-bound: present it with the Bearer scheme', { scheme: 'DPoP' })
    }
    if (jkt !== undefined) {
      if (call.dpop === undefined) throw new BearerTokenError('invalid_token', 'dpop_binding', 'The access token is DPoP-bound: present it with the DPoP scheme and a proof', { scheme: 'DPoP' })
      await checkProof(call.dpop, token, jkt, proofCheck)
      verified.jkt = jkt
    }
    checkScopes(verified.scopes, call.requiredScopes ? [...requiredScopes, ...call.requiredScopes] : requiredScopes)
    return verified
  }

  async function verifyOpaque(token: string): Promise<VerifiedToken> {
    if (!introspection) throw new BearerTokenError('invalid_token', 'opaque_not_supported', 'The access token is invalid')
    return fromIntrospection(await introspection.check(token))
  }

  return {
    requiredScopes,
    verify,
    verifyRequest(request, call) {
      const bearerRequest = typeof request === 'object' ? request : { authorization: request }
      // readAccessToken throws synchronously; keep the promise contract.
      return Promise.resolve().then(() => {
        const { scheme, token } = readAccessToken(bearerRequest)
        if (scheme === 'Bearer') return verify(token, { ...call, dpop: undefined })
        if (bearerRequest.dpop === undefined) throw new TypeError('Authorization: DPoP needs the request\'s dpop (proof, method, url) in verifyRequest')
        return verify(token, { ...call, dpop: bearerRequest.dpop })
      })
    },
  }
}

/**
 * RFC 7800 / RFC 9449 §6: the `cnf.jkt` a token is bound to. A confirmation this verifier cannot
 * check (another method than jkt) refuses the token rather than accepting it as bearer.
 */
function boundKey(claims: Record<string, unknown>): string | undefined {
  const cnf = claims.cnf
  if (cnf === undefined) return undefined
  const jkt = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>).jkt : undefined
  if (typeof jkt !== 'string' || jkt === '') throw new BearerTokenError('invalid_token', 'claims', 'The access token is invalid')
  return jkt
}

function isJwt(token: string): boolean {
  let dots = 0
  for (let i = token.indexOf('.'); i !== -1; i = token.indexOf('.', i + 1)) dots++
  return dots === 2
}

function fromJwt(payload: Record<string, unknown>): VerifiedToken {
  return {
    format: 'jwt',
    subject: String(payload.sub),
    clientId: String(payload.client_id),
    scopes: splitScope(payload.scope),
    expiresAt: Number(payload.exp),
    claims: payload,
  }
}

function fromIntrospection(answer: IntrospectionAnswer): VerifiedToken {
  return {
    format: 'opaque',
    subject: answer.sub ?? answer.client_id ?? '',
    clientId: answer.client_id ?? '',
    scopes: splitScope(answer.scope),
    expiresAt: answer.exp ?? Infinity,
    claims: answer,
  }
}

/** RFC 6749 §3.3: space-delimited scope tokens. */
function splitScope(scope: unknown): string[] {
  return typeof scope === 'string' && scope !== '' ? scope.split(' ').filter(Boolean) : []
}

/** RFC 6750 §3.1 insufficient_scope: 403, naming the scope the resource needs. */
function checkScopes(granted: readonly string[], required: readonly string[]): void {
  const missing = required.filter((scope) => !granted.includes(scope))
  if (missing.length > 0) {
    throw new BearerTokenError('insufficient_scope', 'scope', 'The access token does not grant the required scope', { requiredScope: required.join(' ') })
  }
}
