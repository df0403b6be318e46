import { sign, verify } from 'node:crypto'
import { errors as joseErrors, type JWTPayload, type JWTVerifyGetKey } from 'jose'
import type { KeyRing } from './key-ring.js'
import { SIGNING_ALGS, type ActorClaim, type SigningAlg } from '../types.js'

/** RFC 9068 §2.2 claims of a JWT access token. */
export interface AccessTokenClaims {
  iss: string
  sub: string
  aud: string
  exp: number
  iat: number
  jti: string
  client_id: string
  /** RFC 9068 §2.2.3; absent when no scope was granted (an empty string is no scope value). */
  scope?: string
  /** Gatehouse's grant id (not registered; like OpenID's `sid`): absent on client_credentials tokens. */
  gid?: string
  /** RFC 9449 §6.1: the confirmation of a DPoP-bound token, the thumbprint of the holder's key. */
  cnf?: { jkt: string }
  /** RFC 8693 §4.1: who acts for the subject (a token exchange's actor, nested for a chain). */
  act?: ActorClaim
}

/**
 * Signs an RFC 9068 JWT access token (`typ: at+jwt`) with the active key of `alg` (ES256 or
 * RS256, §2.1). This is the hot path of the token endpoint, so it signs with node:crypto
 * directly over a header encoded once per key: one synchronous ES256 signature costs ~40 µs,
 * where jose's WebCrypto path costs ~230 µs one at a time (measured on the reference machine;
 * see docs/design.md). Both algorithms hash with SHA-256 (RFC 7518 §3.3, §3.4); the key's
 * `signWith` says ES256's r‖s encoding or RS256's PKCS#1 v1.5. Verification, key export and
 * thumbprints use jose.
 */
export function signAccessToken(keys: KeyRing, claims: AccessTokenClaims, alg: SigningAlg): string {
  const key = keys.active(alg)
  const signingInput = `${key.encodedHeader}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  const signature = sign('sha256', Buffer.from(signingInput), key.signWith)
  return `${signingInput}.${signature.toString('base64url')}`
}

export function looksLikeJwt(token: string): boolean {
  return token.split('.').length === 3
}

/** Only the algorithms we sign with: never `none` nor HS* (RFC 8725 §3.1). */
const ALGORITHMS: string[] = [...SIGNING_ALGS]

/**
 * The published key the header's `kid` names, and only for the algorithm that key is for:
 * a token signed HS256 with our RSA public key as the secret, or claiming RS256 for an ES256
 * key, finds no key (RFC 8725 §2.1, algorithm confusion).
 */
export function ourKey(keys: KeyRing): JWTVerifyGetKey {
  return (header) => {
    const key = header.kid && header.alg ? keys.publicKey(header.kid, header.alg) : undefined
    if (!key) throw new joseErrors.JWKSNoMatchingKey()
    return key
  }
}

export type VerifiedAccessToken = AccessTokenClaims & JWTPayload

/**
 * Verifies a JWT access token this server issued: signature by a published key, `typ`,
 * issuer and expiry (RFC 9068 §4). Returns undefined for anything else.
 */
export async function verifyAccessToken(keys: KeyRing, token: string, options: { issuer: string; now: number }): Promise<VerifiedAccessToken | undefined> {
  const checked = checkJwt(keys, token, options)
  return checked.ok ? checked.claims : undefined
}

/** Why a JWT is not a valid access token of this server; for callers that may say so (the management API). */
export type JwtRefusal =
  | { reason: 'malformed' }
  | { reason: 'unknown_key' }
  | { reason: 'bad_signature' }
  | { reason: 'not_access_token' }
  | { reason: 'wrong_issuer'; issuer: string }
  | { reason: 'expired'; expiredAt: number }

/**
 * The same checks as verifyAccessToken (RFC 9068 §4), keeping the reason of a refusal. The
 * signature is checked before any claim, so `wrong_issuer` and `expired` are said only of a token
 * one of our keys signed.
 */
export async function checkJwtAccessToken(keys: KeyRing, token: string, options: { issuer: string; now: number }): Promise<{ ok: true; claims: VerifiedAccessToken } | ({ ok: false } & JwtRefusal)> {
  return checkJwt(keys, token, options)
}

type JsonObject = Record<string, unknown>

function decodeSegment(segment: string | undefined): JsonObject | undefined {
  if (segment === undefined || segment === '') return undefined
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined
  } catch {
    return undefined
  }
}

/** RFC 9068 §2.1 / RFC 7515 §4.1.9: `at+jwt`, also spelled with its `application/` prefix, in any case. */
const isAccessTokenType = (typ: unknown): boolean => typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === 'at+jwt'

/**
 * Introspection and every protected route check JWTs on their hot path, so this is node:crypto,
 * synchronously, against the ring's imported public keys: jose's WebCrypto verify was ~40 % of
 * the busy time of JWT introspection (docs/design.md, "Performance"). The checks are jose's for
 * these options: one of our algorithms (never `none` nor HS*, RFC 8725 §3.1) with the key the
 * `kid` names for it, no `crit`, then `typ`, `iss`, `exp`, `nbf`.
 */
function checkJwt(keys: KeyRing, token: string, options: { issuer: string; now: number }): { ok: true; claims: VerifiedAccessToken } | ({ ok: false } & JwtRefusal) {
  const segments = token.split('.')
  if (segments.length !== 3 || token.length > 16_384) return { ok: false, reason: 'malformed' }
  const header = decodeSegment(segments[0])
  if (header === undefined || typeof header.alg !== 'string' || !ALGORITHMS.includes(header.alg) || header.crit !== undefined) return { ok: false, reason: 'malformed' }
  const key = typeof header.kid === 'string' ? keys.publicKey(header.kid, header.alg) : undefined
  if (!key) return { ok: false, reason: 'unknown_key' }
  const signature = Buffer.from(segments[2] ?? '', 'base64url')
  const data = Buffer.from(`${segments[0]}.${segments[1]}`)
  let valid = false
  try {
    // Both algorithms hash with SHA-256 (RFC 7518 §3.3, §3.4); ES256 signs R‖S, 64 bytes.
    valid = header.alg === 'ES256' ? signature.length === 64 && verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature) : verify('sha256', data, key, signature)
  } catch {
    valid = false
  }
  if (!valid) return { ok: false, reason: 'bad_signature' }
  const payload = decodeSegment(segments[1])
  if (payload === undefined) return { ok: false, reason: 'malformed' }
  if (!isAccessTokenType(header.typ)) return { ok: false, reason: 'not_access_token' }
  if (payload.iss !== options.issuer) return { ok: false, reason: 'wrong_issuer', issuer: typeof payload.iss === 'string' ? payload.iss : '' }
  const nowSeconds = Math.floor(options.now / 1000)
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    if (payload[claim] !== undefined && (typeof payload[claim] !== 'number' || !Number.isFinite(payload[claim]))) return { ok: false, reason: 'malformed' }
  }
  if (typeof payload.exp === 'number' && payload.exp <= nowSeconds) return { ok: false, reason: 'expired', expiredAt: payload.exp }
  if (typeof payload.nbf === 'number' && payload.nbf > nowSeconds) return { ok: false, reason: 'malformed' }
  // RFC 9068 §2.2: exp, client_id, jti and sub are required of an access token.
  if (typeof payload.exp !== 'number' || typeof payload.client_id !== 'string' || typeof payload.jti !== 'string' || typeof payload.sub !== 'string') return { ok: false, reason: 'not_access_token' }
  return { ok: true, claims: payload as VerifiedAccessToken }
}
