import { digestSecret } from '../credentials/secrets.js'
import type { Random } from '../random.js'

/**
 * Refresh tokens: `rt-` + base64url(6-byte issue time in ms ‖ 32 random bytes), 51 characters.
 *
 * The store keys a token by `hex(issue time) ‖ SHA-256(token)` (see `refreshTokenKey`): still
 * only a digest of the token, but ordered by time. A B-tree insert then lands on the index's
 * right-hand edge, which stays in memory, instead of on a random page: on a table of millions
 * of tokens that is the difference between one hot page and a page read plus a full-page WAL
 * write per refresh. The issue time it reveals is no secret: the holder was there.
 */
export const REFRESH_TOKEN_PREFIX = 'rt-'
const TIME_BYTES = 6
const RANDOM_BYTES = 32
const FORMAT = /^rt-[A-Za-z0-9_-]{51}$/

export function generateRefreshToken(random: Random, now: number): string {
  return deriveRefreshToken(random.bytes(RANDOM_BYTES), now)
}

/** A refresh token whose secret part is given (32 bytes, e.g. an HMAC) instead of drawn. */
export function deriveRefreshToken(secret: Buffer, now: number): string {
  const bytes = Buffer.alloc(TIME_BYTES + RANDOM_BYTES)
  bytes.writeUIntBE(Math.max(0, Math.floor(now)), 0, TIME_BYTES)
  secret.copy(bytes, TIME_BYTES, 0, RANDOM_BYTES)
  return REFRESH_TOKEN_PREFIX + bytes.toString('base64url')
}

export function looksLikeRefreshToken(token: string): boolean {
  return FORMAT.test(token)
}

/** The store's key for a presented refresh token; a malformed one gets a key no token has. */
export function refreshTokenKey(token: string): string {
  if (!looksLikeRefreshToken(token)) return digestSecret(token)
  const time = Buffer.from(token.slice(REFRESH_TOKEN_PREFIX.length), 'base64url').subarray(0, TIME_BYTES)
  return time.toString('hex') + digestSecret(token)
}
