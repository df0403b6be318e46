import type { Random } from '../random.js'

/**
 * Canary-style API keys: `KEYID:SECRET`, KEYID six upper-case hex characters, SECRET the
 * standard base64 of 32 random bytes (it may contain `+` and `/`).
 */
const KEY_PATTERN = /^([0-9A-F]{6}):([A-Za-z0-9+/]{43}=)$/

export interface ParsedApiKey {
  id: string
  secret: string
}

export function parseApiKey(value: string): ParsedApiKey | undefined {
  const match = KEY_PATTERN.exec(value.trim())
  if (!match) return undefined
  return { id: match[1] as string, secret: match[2] as string }
}

export function generateApiKeyId(random: Random): string {
  return random.bytes(3).toString('hex').toUpperCase()
}

export function generateApiKeySecret(random: Random): string {
  return random.bytes(32).toString('base64')
}
