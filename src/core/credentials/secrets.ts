import { hash, timingSafeEqual } from 'node:crypto'
import type { Random } from '../random.js'

/**
 * Machine secrets (client secrets, API key secrets, refresh and opaque tokens) carry 256
 * or 128 random bits, so a fast SHA-256 digest stores them safely: a slow hash adds
 * nothing against brute force of a value that large, and would cost every request.
 */
export function digestSecret(secret: string): string {
  // crypto.hash: one call, no Hash object per request (Node >= 20.12).
  return hash('sha256', secret, 'hex')
}

/** Constant-time comparison of a presented secret with a stored digest. */
export function secretMatchesDigest(secret: string, digest: string): boolean {
  const presented = hash('sha256', secret, 'buffer')
  const stored = Buffer.from(digest, 'hex')
  return stored.length === presented.length && timingSafeEqual(presented, stored)
}

/** 256-bit client secret, base64url (no characters that need escaping in a form or header). */
export function generateClientSecret(random: Random): string {
  return random.bytes(32).toString('base64url')
}

/** A client id: 24 lower-case hex characters (96 bits, not secret, just unguessable enough). */
export function generateClientId(random: Random): string {
  return random.bytes(12).toString('hex')
}

/**
 * A digest that no secret produces in practice, compared against when the client or key is
 * unknown so that "unknown" and "wrong secret" take the same path and the same time.
 */
export const UNKNOWN_SECRET_DIGEST = digestSecret('gatehouse: no such client')
