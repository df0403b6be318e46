import { randomBytes } from 'node:crypto'
import { hash, verify, Algorithm } from '@node-rs/argon2'

/**
 * User passwords are chosen by people, so they get a slow, memory-hard hash: argon2id with
 * OWASP's recommended minimum (m = 19 MiB, t = 2, p = 1).
 */
const OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const

export async function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS)
}

export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  try {
    return await verify(storedHash, password)
  } catch {
    return false
  }
}

let dummyHash: Promise<string> | undefined

/**
 * Verifies against a hash of a random value, so that an unknown username costs the same
 * argon2 work as a wrong password and the two cannot be told apart by timing.
 */
export async function burnPasswordCheck(password: string): Promise<false> {
  dummyHash ??= hash(randomBytes(32).toString('hex'), OPTIONS)
  await verifyPassword(await dummyHash, password)
  return false
}
