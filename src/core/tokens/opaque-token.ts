import type { Random } from '../random.js'

/** Opaque access tokens look like seed 003's: `sk-` + 32 hex characters (128 random bits). */
export const OPAQUE_TOKEN_PREFIX = 'sk-'

export function generateOpaqueToken(random: Random): string {
  return OPAQUE_TOKEN_PREFIX + random.bytes(16).toString('hex')
}

export function looksLikeOpaqueToken(token: string): boolean {
  return /^sk-[0-9a-f]{32}$/.test(token)
}
