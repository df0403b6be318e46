import { randomBytes, randomFillSync, randomUUID } from 'node:crypto'

/** Randomness comes from here so tests can substitute a deterministic source. */
export interface Random {
  bytes(length: number): Buffer
  uuid(): string
}

/**
 * Small random values (JWT ids, opaque and refresh tokens) are cut from a pool filled 8 KiB at a
 * time: one call into OpenSSL per 8 KiB instead of one per value, which was ~6% of a JWT token
 * request's CPU. Every byte is CSPRNG output handed out once, as Node's randomUUID does.
 */
const POOL_SIZE = 8192
let pool = Buffer.alloc(0)
let offset = 0

function pooledRandomBytes(length: number): Buffer {
  if (length > 256) return randomBytes(length)
  if (offset + length > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_SIZE))
    offset = 0
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + length))
  offset += length
  return bytes
}

export const systemRandom: Random = {
  bytes: pooledRandomBytes,
  uuid: () => randomUUID(),
}
