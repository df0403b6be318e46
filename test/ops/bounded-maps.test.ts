import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BoundedMap } from '../../src/core/bounded-map.js'
import { ClientCache } from '../../src/core/client-cache.js'
import { ManualClock } from '../../src/core/clock.js'
import { DEFAULT_LOCKOUT_POLICY } from '../../src/core/abuse/limits.js'
import type { Client } from '../../src/core/types.js'
import { MemoryLockout } from '../../src/limits/memory-lockout.js'
import { MemoryRateLimiter } from '../../src/limits/memory-rate-limiter.js'

/** More distinct keys than any in-memory map holds (100k). */
const FLOOD = 100_050

describe('in-memory limits survive a flood of other keys (bounded LRU, never clear())', () => {
  it('keeps a username locked after 100k+ other names each fail once', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1))
    const lockout = new MemoryLockout(clock, DEFAULT_LOCKOUT_POLICY)
    for (let i = 0; i < DEFAULT_LOCKOUT_POLICY.maxFailures; i++) await lockout.recordFailure('victim@example.com')
    assert.equal(await lockout.lockedFor('victim@example.com'), 300)
    for (let i = 0; i < FLOOD; i++) await lockout.recordFailure(`flood-${i}@example.com`)
    assert.equal(await lockout.lockedFor('victim@example.com'), 300)
  })

  it('keeps a drained rate limit bucket after 100k+ other keys take a point each', () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1))
    const limiter = new MemoryRateLimiter(clock)
    const limit = { points: 3, periodMs: 60_000 }
    assert.deepEqual([0, 1, 2, 3].map(() => limiter.take('ip:198.51.100.7', limit)), [0, 0, 0, 20])
    for (let i = 0; i < FLOOD; i++) limiter.take(`ip:flood-${i}`, limit)
    assert.ok(limiter.size <= 100_000, `size ${limiter.size}`)
    assert.equal(limiter.take('ip:198.51.100.7', limit), 20)
  })

  it('keeps recently used clients cached when more than 100k clients pass through', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1))
    const client = (id: string): Client => ({ id }) as Client
    const cache = new ClientCache({ store: { getClient: async (id) => client(id) }, clock }, 60_000)
    for (let i = 0; i < 99_999; i++) await cache.get(`other-${i}`)
    await cache.get('busy')
    for (let i = 0; i < 10; i++) await cache.get(`late-${i}`)
    const before = cache.stats.hits
    await cache.get('busy')
    assert.equal(cache.stats.hits, before + 1, 'busy was still cached')
  })
})

describe('BoundedMap', () => {
  it('evicts the least recently used entry; a read counts as a use', () => {
    const map = new BoundedMap<string, number>(3)
    map.set('a', 1)
    map.set('b', 2)
    map.set('c', 3)
    map.get('a')
    map.set('d', 4)
    assert.deepEqual([...map.entries()], [['c', 3], ['a', 1], ['d', 4]])
  })

  it('passes over kept entries while expendable ones remain, then evicts the oldest anyway', () => {
    const map = new BoundedMap<string, boolean>(3, { keep: (kept) => kept, scanLimit: 2 })
    map.set('lock', true)
    map.set('x', false)
    map.set('y', false)
    map.set('z', false)
    assert.deepEqual([...map.entries()].map(([key]) => key), ['y', 'lock', 'z'])
    const full = new BoundedMap<string, boolean>(2, { keep: () => true, scanLimit: 2 })
    full.set('a', true)
    full.set('b', true)
    full.set('c', true)
    assert.equal(full.size, 2)
  })
})
