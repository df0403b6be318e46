import { base64url, calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify, type JWK, type JWTPayload } from 'jose'
import { BearerTokenError } from './bearer.js'

/**
 * RFC 9449 (DPoP) on the resource server's side (§7): the proof that comes with a DPoP-bound
 * access token, checked with jose and WebCrypto only (this module is part of `gatehouse-verify`).
 */

/** RFC 9449 §3 / RFC 8725 §3.1: asymmetric algorithms only, never `none` nor HS*. The same list Gatehouse accepts. */
export const DPOP_ALGORITHMS = ['ES256', 'RS256', 'PS256', 'EdDSA'] as const

/** A proof is one compact JWS in one header line; anything larger is not a proof. */
const MAX_PROOF_LENGTH = 8192
const MAX_JTI_LENGTH = 256
/** JWK members that make it a private (or symmetric) key (RFC 7517 §9.2, RFC 7518 §6). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

/**
 * Where the verifier remembers the proofs it has accepted, so each `jti` is used once
 * (RFC 9449 §11.1). The default is an in-memory LRU ({@link MemoryDpopReplayCache}); give a
 * shared one (Redis `SET key 1 NX PXAT expiresAt`, a unique row…) when the resource server runs
 * as several instances.
 *
 * @example
 * ```ts
 * const replay: DpopReplayCache = {
 *   async remember(key, expiresAt) {
 *     return (await redis.set(`dpop:${key}`, '1', 'PXAT', expiresAt, 'NX')) === 'OK'
 *   },
 * }
 * ```
 */
export interface DpopReplayCache {
  /** Remembers `key` until `expiresAt` (ms since the epoch); true when it was not remembered yet (an atomic insert-if-absent). */
  remember(key: string, expiresAt: number): boolean | Promise<boolean>
}

/**
 * The default replay cache: at most `maxEntries` proofs, the least recently stored evicted first.
 * Evicting a proof that has not expired yet would let it be replayed, so size it above the
 * proofs accepted per `iat` window (default 100,000: about 1,600 proofs a second for 60 s).
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ issuer, audience, dpop: { replay: new MemoryDpopReplayCache(500_000) } })
 * ```
 */
export class MemoryDpopReplayCache implements DpopReplayCache {
  readonly #entries = new Map<string, number>()
  readonly #maxEntries: number
  readonly #now: () => number

  constructor(maxEntries = 100_000, now: () => number = Date.now) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer')
    this.#maxEntries = maxEntries
    this.#now = now
  }

  remember(key: string, expiresAt: number): boolean {
    const now = this.#now()
    const known = this.#entries.get(key)
    if (known !== undefined && known > now) return false
    this.#entries.delete(key)
    // Maps iterate in insertion order: drop expired entries at the old end, then the oldest if still full.
    for (const [oldKey, oldExpiry] of this.#entries) {
      if (oldExpiry > now && this.#entries.size < this.#maxEntries) break
      this.#entries.delete(oldKey)
      if (oldExpiry > now) break
    }
    this.#entries.set(key, expiresAt)
    return true
  }

  /** Proofs currently remembered (for tests and metrics). */
  get size(): number {
    return this.#entries.size
  }
}

/**
 * How DPoP proofs are checked.
 *
 * @example
 * ```ts
 * const dpop: DpopSettings = { maxAgeSeconds: 30, replay: new MemoryDpopReplayCache(10_000) }
 * ```
 */
export interface DpopSettings {
  /** How far a proof's `iat` may be from now, either way, in seconds (default 60). */
  maxAgeSeconds?: number
  /** Default: a {@link MemoryDpopReplayCache} of 100,000 entries. */
  replay?: DpopReplayCache
}

/**
 * The request a proof must name: what `gatehouse-verify/fastify` and `gatehouse-verify/express` fill in.
 *
 * @example
 * ```ts
 * await verifier.verify(token, { dpop: { proof: req.headers.dpop, method: 'GET', url: 'https://api.example.com/records' } })
 * ```
 */
export interface DpopRequestInfo {
  /** The `DPoP` header's value (several headers are refused). */
  proof: string | readonly string[] | undefined
  /** The HTTP method (`htm`). */
  method: string
  /** The request's absolute URL as the client addressed it (`htu`); query and fragment are ignored. */
  url: string
}

export interface ProofCheck {
  maxAgeSeconds: number
  replay: DpopReplayCache
  now: () => number
}

export const invalidProof = (description: string, cause?: unknown): BearerTokenError =>
  new BearerTokenError('invalid_dpop_proof', 'dpop_proof', description, { cause })

/** RFC 9449 §4.3 step 9: compared without query and fragment, after URL normalization. */
function normalizeHtu(url: string): string | undefined {
  try {
    const parsed = new URL(url)
    parsed.search = ''
    parsed.hash = ''
    return parsed.href
  } catch {
    return undefined
  }
}

/** `base64url(SHA-256(value))`, the `ath` claim (RFC 9449 §4.2). */
export async function sha256Base64url(value: string): Promise<string> {
  return base64url.encode(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(value))))
}

/**
 * RFC 9449 §4.3 and §7.1: one proof JWT, `typ` dpop+jwt, an asymmetric `alg`, a public `jwk`
 * that verifies the signature and whose thumbprint is the token's `cnf.jkt`, `htm` and `htu` of
 * this request, `iat` within the window, `ath` of the presented token, and a `jti` not seen
 * before (checked last, so a refused proof is not remembered).
 */
export async function checkProof(request: DpopRequestInfo, accessToken: string, jkt: string, settings: ProofCheck): Promise<void> {
  const proof = request.proof
  if (proof === undefined) throw invalidProof('A DPoP proof is required with a DPoP-bound access token')
  if (typeof proof !== 'string') throw invalidProof('Send exactly one DPoP header')
  if (proof.length === 0 || proof.length > MAX_PROOF_LENGTH || proof.split('.').length !== 3) throw invalidProof('The DPoP proof is not a compact JWS')
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(proof)
  } catch (error) {
    throw invalidProof('The DPoP proof header cannot be read', error)
  }
  if (header.typ !== 'dpop+jwt') throw invalidProof('The DPoP proof must have typ dpop+jwt')
  const algorithms: readonly string[] = DPOP_ALGORITHMS
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) throw invalidProof('The DPoP proof algorithm is not accepted')
  const jwk: unknown = header.jwk
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw invalidProof('The DPoP proof must carry its public key (jwk)')
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) throw invalidProof('The DPoP proof jwk must be a public key')
  const now = settings.now()
  let payload: JWTPayload
  try {
    const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...DPOP_ALGORITHMS], currentDate: new Date(now), clockTolerance: settings.maxAgeSeconds })
    payload = verified.payload
  } catch (error) {
    throw invalidProof('The DPoP proof signature or claims do not verify', error)
  }
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > MAX_JTI_LENGTH) throw invalidProof('The DPoP proof must have a jti')
  if (payload.htm !== request.method.toUpperCase()) throw invalidProof('The DPoP proof htm does not match the request method')
  const htu = typeof payload.htu === 'string' ? normalizeHtu(payload.htu) : undefined
  if (htu === undefined || htu !== normalizeHtu(request.url)) throw invalidProof('The DPoP proof htu does not match the request URL')
  const nowSeconds = Math.floor(now / 1000)
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat) || Math.abs(nowSeconds - payload.iat) > settings.maxAgeSeconds) {
    throw invalidProof('The DPoP proof iat is outside the acceptable window')
  }
  if (payload.ath !== (await sha256Base64url(accessToken))) throw invalidProof('The DPoP proof ath does not match the access token')
  // jose's thumbprint of the header's key, the one that verified the signature.
  if ((await calculateJwkThumbprint(jwk as JWK, 'sha256')) !== jkt) throw new BearerTokenError('invalid_token', 'dpop_binding', 'Invalid DPoP key binding', { scheme: 'DPoP' })
  // Keyed by the key and the jti, hashed: the attacker chooses the jti, not the memory it takes.
  const replayKey = await sha256Base64url(`${jkt}.${payload.jti}`)
  if (!(await settings.replay.remember(replayKey, (payload.iat + settings.maxAgeSeconds + 1) * 1000))) throw invalidProof('The DPoP proof has been used before')
}
