import type { Random } from '../random.js'

/** Refresh tokens: `rt-` + 256 random bits, base64url. Opaque; the store keeps a digest. */
export const REFRESH_TOKEN_PREFIX = 'rt-'

export function generateRefreshToken(random: Random): string {
  return REFRESH_TOKEN_PREFIX + random.bytes(32).toString('base64url')
}

export function looksLikeRefreshToken(token: string): boolean {
  return /^rt-[A-Za-z0-9_-]{43}$/.test(token)
}
