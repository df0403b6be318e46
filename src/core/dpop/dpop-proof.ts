import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { OAuthError } from '../errors.js'
import { jwkThumbprint, verifyWithEmbeddedKey, type DpopAlg } from './proof-jws.js'

/**
 * RFC 9449 (DPoP): the check of a proof JWT, no HTTP. The caller names the request it came
 * with (method and URL) and, at a resource, the access token presented beside it.
 */

/** RFC 9449 §3 / RFC 8725 §3.1: asymmetric algorithms only; never `none` nor HS*. */
export const DPOP_ALGS = ['ES256', 'RS256', 'PS256', 'EdDSA'] as const
const ALGS: readonly string[] = DPOP_ALGS

/** A proof is one compact JWS in one header line; anything larger is not a proof (RSA-4096 keys fit in 2 KB). */
export const MAX_PROOF_LENGTH = 8192
const MAX_JTI_LENGTH = 256
/** JWK members that make it a private (or symmetric) key (RFC 7517 §9.2, RFC 7518 §6). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

/** Port: the proofs seen, so that each `jti` is used once across every instance (RFC 9449 §11.1). */
export interface DpopReplayStore {
  /** Remembers `key` until `expiresAt` (ms); true when it was not yet remembered (atomic insert-if-absent). */
  rememberDpopProof(key: string, expiresAt: number): Promise<boolean>
}

/**
 * RFC 9449 §8: stateless server nonces, an HMAC of a time window under a key derived from
 * GATEHOUSE_SECRET, so that every instance issues and accepts the same ones. The current and the
 * previous window are accepted: a nonce lives one to two windows.
 */
export class DpopNonces {
  readonly #key: Buffer
  readonly #windowMs: number

  constructor(key: Buffer, windowMs = 300_000) {
    this.#key = key
    this.#windowMs = windowMs
  }

  #mac(window: number): string {
    return createHmac('sha256', this.#key).update(`dpop-nonce.${window}`).digest().subarray(0, 18).toString('base64url')
  }

  current(now: number): string {
    const window = Math.floor(now / this.#windowMs)
    return `${window.toString(36)}.${this.#mac(window)}`
  }

  accepts(nonce: unknown, now: number): boolean {
    if (typeof nonce !== 'string' || nonce.length > 64) return false
    const [windowText, mac, extra] = nonce.split('.')
    if (windowText === undefined || mac === undefined || extra !== undefined || !/^[0-9a-z]{1,12}$/.test(windowText)) return false
    const window = parseInt(windowText, 36)
    const current = Math.floor(now / this.#windowMs)
    if (window !== current && window !== current - 1) return false
    const expected = Buffer.from(this.#mac(window))
    const given = Buffer.from(mac)
    return given.length === expected.length && timingSafeEqual(given, expected)
  }
}

export interface DpopPolicy {
  replay: DpopReplayStore
  /** Seconds a proof's `iat` may be from now, either way (RFC 9449 §11.1). */
  windowSeconds: number
  nonces?: DpopNonces
  /** Every proof must carry a current server nonce (GATEHOUSE_DPOP_NONCE=required). */
  requireNonce: boolean
}

export interface DpopRequest {
  /** The `DPoP` header's value, exactly as sent. */
  proof: string
  /** The HTTP method the proof must name (`htm`). */
  method: string
  /** The URL of the endpoint (`htu`), as the issuer names it; query and fragment are ignored. */
  url: string
  /** At a resource: the access token presented beside the proof, whose hash `ath` must be. */
  accessToken?: string
}

export interface CheckedProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key: what a token is bound to (`cnf.jkt`). */
  jkt: string
}

/** `base64url(SHA-256(access token))`, the `ath` claim (RFC 9449 §4.2). */
export function accessTokenHashForDpop(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url')
}

const invalidProof = (description: string, debug?: string): OAuthError =>
  new OAuthError('invalid_dpop_proof', { description, ...(debug !== undefined ? { debug } : {}) })

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

type JsonObject = Record<string, unknown>

/** One base64url JSON object of a compact JWS, or undefined. */
function decodeSegment(segment: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined
  } catch {
    return undefined
  }
}

/** RFC 9449 §4.3 steps 1–4 and 6: one JWS, `typ` dpop+jwt, an allowed `alg`, a public `jwk`. */
function checkHeader(proof: string): { alg: DpopAlg; jwk: JsonObject; payload: JsonObject } {
  const segments = proof.split('.')
  if (proof.length === 0 || proof.length > MAX_PROOF_LENGTH || segments.length !== 3) throw invalidProof('The DPoP proof is not a compact JWS.')
  const header = decodeSegment(segments[0] ?? '')
  if (header === undefined) throw invalidProof('The DPoP proof header cannot be read.')
  if (header.typ !== 'dpop+jwt') throw invalidProof('The DPoP proof must have typ dpop+jwt.')
  if (typeof header.alg !== 'string' || !ALGS.includes(header.alg)) throw invalidProof(`The DPoP proof algorithm must be one of ${DPOP_ALGS.join(', ')}.`)
  // RFC 7515 §4.1.11: a critical extension we do not understand makes the JWS invalid.
  if (header.crit !== undefined) throw invalidProof('The DPoP proof signature or claims do not verify.', 'crit header')
  const jwk = header.jwk
  if (jwk === undefined || typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw invalidProof('The DPoP proof must carry its public key (jwk).')
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) throw invalidProof('The DPoP proof jwk must be a public key; it carries private members.')
  const payload = decodeSegment(segments[1] ?? '')
  if (payload === undefined) throw invalidProof('The DPoP proof signature or claims do not verify.', 'payload is not a JSON object')
  return { alg: header.alg as DpopAlg, jwk: jwk as JsonObject, payload }
}

/** RFC 7519 §4.1.4/§4.1.5, as a JWT library checks them: an `exp` passed or an `nbf` ahead (beyond the window) fails. */
function checkTimes(payload: JsonObject, nowSeconds: number, windowSeconds: number): boolean {
  for (const [claim, late] of [['exp', true], ['nbf', false]] as const) {
    const value = payload[claim]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isFinite(value)) return false
    if (late ? value <= nowSeconds - windowSeconds : value > nowSeconds + windowSeconds) return false
  }
  return true
}

/**
 * RFC 9449 §4.3: one JWT, `typ` dpop+jwt, an asymmetric `alg`, a public `jwk` that verifies the
 * signature, `htm` and `htu` of this request, `iat` within the window, a `jti` not seen before,
 * `ath` of the presented token at a resource, and the server nonce when one is required (§8:
 * `use_dpop_nonce`). Every failure is an OAuthError `invalid_dpop_proof` (or `use_dpop_nonce`,
 * carrying a fresh nonce).
 */
export async function checkDpopProof(request: DpopRequest, policy: DpopPolicy, now: number): Promise<CheckedProof> {
  const { alg, jwk, payload } = checkHeader(request.proof)
  const nowSeconds = Math.floor(now / 1000)
  if (!verifyWithEmbeddedKey(request.proof, jwk, alg)) throw invalidProof('The DPoP proof signature or claims do not verify.', 'signature')
  if (!checkTimes(payload, nowSeconds, policy.windowSeconds)) throw invalidProof('The DPoP proof signature or claims do not verify.', 'exp or nbf')
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > MAX_JTI_LENGTH) throw invalidProof('The DPoP proof must have a jti.')
  if (payload.htm !== request.method) throw invalidProof('The DPoP proof htm does not match the request method.')
  const htu = typeof payload.htu === 'string' ? normalizeHtu(payload.htu) : undefined
  if (htu === undefined || htu !== normalizeHtu(request.url)) throw invalidProof('The DPoP proof htu does not match the request URL.')
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat) || Math.abs(nowSeconds - payload.iat) > policy.windowSeconds) {
    throw invalidProof('The DPoP proof iat is outside the acceptable window.')
  }
  if (request.accessToken !== undefined) {
    if (payload.ath !== accessTokenHashForDpop(request.accessToken)) throw invalidProof('The DPoP proof ath does not match the access token.')
  }
  if (policy.requireNonce && policy.nonces) {
    if (!policy.nonces.accepts(payload.nonce, now)) {
      throw new OAuthError('use_dpop_nonce', { description: 'Authorization server requires nonce in DPoP proof.', dpopNonce: policy.nonces.current(now) })
    }
  }
  const jkt = jwkThumbprint(jwk)
  if (jkt === undefined) throw invalidProof('The DPoP proof must carry its public key (jwk).')
  // Keyed by the proof's key and jti, hashed: the attacker chooses the jti, not its length here.
  const replayKey = createHash('sha256').update(`${jkt}.${payload.jti}`).digest('base64url')
  const fresh = await policy.replay.rememberDpopProof(replayKey, (Math.floor(payload.iat) + policy.windowSeconds + 1) * 1000)
  if (!fresh) throw invalidProof('The DPoP proof has been used before.')
  return { jkt }
}
