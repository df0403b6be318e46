/**
 * The rows of one batch in chunks whose sizes are powers of two (largest first, at most `max`).
 *
 * Why: the SQLite store keeps each prepared statement by its SQL text (at most 500,
 * sqlite/sqlite-store.ts), and a multi-row statement's text changes with its row count. Batches
 * of every size from 1 to 200 would keep hundreds of large statements alive under a load that
 * produces them all: 400 multi-row statements of the refresh rotation's shape held 26 MiB of
 * native memory, outside the JavaScript heap. In power-of-two chunks a
 * statement kind has at most log2(max) + 1 texts; the batch is still one transaction, so still
 * one commit.
 *
 * @example
 * powerOfTwoChunks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]) // [[1..8], [9..12], [13]]
 */
export function powerOfTwoChunks<T>(items: readonly T[], max = 128): T[][] {
  if (!Number.isInteger(max) || max < 1 || (max & (max - 1)) !== 0) throw new RangeError('max must be a power of two')
  const chunks: T[][] = []
  let at = 0
  while (at < items.length) {
    let size = max
    while (size > items.length - at) size >>= 1
    chunks.push(items.slice(at, at + size))
    at += size
  }
  return chunks
}
