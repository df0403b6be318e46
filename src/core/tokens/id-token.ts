import { hash, sign } from 'node:crypto'
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose'
import { ourKey } from './jwt-access-token.js'
import type { KeyRing } from './key-ring.js'
import { SIGNING_ALGS, type SigningAlg } from '../types.js'

/** OpenID Connect Core §2 claims of an ID token, with §3.1.3.6 `at_hash` and Front-Channel Logout's `sid`. */
export interface IdTokenClaims {
  iss: string
  sub: string
  /** The client id (Core §2: the audience is the relying party). */
  aud: string
  exp: number
  iat: number
  /** Seconds: when the user last entered their password. */
  auth_time: number
  nonce?: string
  at_hash?: string
  sid?: string
  /** Core §5.4 claims of the granted scopes (profile → name, email → email). */
  name?: string
  email?: string
}

/**
 * Core §3.1.3.6: base64url of the left half of the access token's hash, with the hash of the
 * ID token's `alg` (SHA-256 for ES256 and RS256).
 */
export function accessTokenHash(accessToken: string): string {
  return hash('sha256', accessToken, 'buffer').subarray(0, 16).toString('base64url')
}

/**
 * Signs an ID token with the active key of `alg` (the client's signing algorithm, ES256 unless
 * it chose RS256). `typ: JWT` keeps it apart from access tokens (`at+jwt`, RFC 9068 §2.1), so
 * neither can be passed off as the other (RFC 8725 §3.11).
 */
export function signIdToken(keys: KeyRing, claims: IdTokenClaims, alg: SigningAlg): string {
  const key = keys.active(alg)
  const header = Buffer.from(JSON.stringify({ alg, kid: key.kid, typ: 'JWT' })).toString('base64url')
  const signingInput = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), key.signWith).toString('base64url')}`
}

/** What an `id_token_hint` says, once its signature is known to be ours. */
export interface IdTokenHint {
  subject: string
  clientId: string
  sessionId: string | undefined
}

/**
 * OpenID Connect RP-Initiated Logout §2: an ID token this server signed (any published key, its
 * own algorithm only, `typ: JWT`, our issuer). An expired one is still a good hint — the RP
 * logs out users whose tokens have long expired — so expiry is not checked; anything else that
 * fails makes it no hint at all.
 */
export async function readIdTokenHint(keys: KeyRing, token: string, issuer: string): Promise<IdTokenHint | undefined> {
  let payload: JWTPayload
  try {
    payload = (await jwtVerify(token, ourKey(keys), { issuer, typ: 'JWT', algorithms: [...SIGNING_ALGS] })).payload
  } catch (error) {
    // jose checks the signature before any claim: an expired token here was signed by us.
    if (!(error instanceof joseErrors.JWTExpired)) return undefined
    payload = error.payload
  }
  const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud
  if (typeof payload.sub !== 'string' || typeof aud !== 'string') return undefined
  return { subject: payload.sub, clientId: aud, sessionId: typeof payload.sid === 'string' ? payload.sid : undefined }
}
