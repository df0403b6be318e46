import type { Random } from './random.js'

/**
 * A UUIDv7 (RFC 9562 §5.7): 48-bit millisecond time, then random bits. Used for keys of rows
 * inserted on the hot path (refresh families), so their index grows at its right-hand edge.
 */
export function timeOrderedUuid(random: Random, now: number): string {
  const bytes = Buffer.alloc(16)
  bytes.writeUIntBE(Math.max(0, Math.floor(now)), 0, 6)
  random.bytes(10).copy(bytes, 6)
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70 // version 7
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80 // RFC 9562 variant
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
