import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { powerOfTwoChunks } from '../../src/store/statement-chunks.js'

describe('powerOfTwoChunks (the SQLite store writes a batch in these, so few statement texts exist)', () => {
  it('splits largest first', () => {
    assert.deepEqual(powerOfTwoChunks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], 8), [[1, 2, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12], [13]])
    assert.deepEqual(powerOfTwoChunks([], 8), [])
    assert.deepEqual(
      powerOfTwoChunks(Array.from({ length: 300 }, (_, i) => i)).map((chunk) => chunk.length),
      [128, 128, 32, 8, 4],
    )
    assert.throws(() => powerOfTwoChunks([1], 6), RangeError)
  })

  it('property: the chunks are the items in order, each a power of two no larger than max, never growing; at most log2(max) + 1 sizes exist', () => {
    const sizes = new Set<number>()
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 700 }), fc.constantFrom(1, 2, 8, 64, 128), (items, max) => {
        const chunks = powerOfTwoChunks(items, max)
        assert.deepEqual(chunks.flat(), items)
        for (const [i, chunk] of chunks.entries()) {
          assert.ok(chunk.length >= 1 && chunk.length <= max && (chunk.length & (chunk.length - 1)) === 0)
          if (i > 0) assert.ok(chunk.length <= (chunks[i - 1] as number[]).length)
          if (max === 128) sizes.add(chunk.length)
        }
      }),
    )
    assert.ok(sizes.size <= 8)
  })
})
