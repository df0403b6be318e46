import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ClientCache } from '../../src/core/client-cache.js'
import { ManualClock } from '../../src/core/clock.js'
import type { Client } from '../../src/core/types.js'
import { request } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/** Issue 12 item 4: a known client id answers as fast as an unknown one (no store read for either). */

/** A store of the given ids that counts its reads. */
function countingStore(known: string[]): { getClient(id: string): Promise<Client | undefined>; reads: string[] } {
  const reads: string[] = []
  return {
    reads,
    async getClient(id) {
      reads.push(id)
      return known.includes(id) ? ({ id } as Client) : undefined
    },
  }
}

describe('the client cache remembers unknown ids', () => {
  it('reads the store once for an unknown id until the entry expires, like for a known one', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1))
    const store = countingStore(['known'])
    const cache = new ClientCache({ store, clock }, 5000)
    for (let i = 0; i < 3; i++) {
      assert.equal(await cache.get('unknown'), undefined)
      assert.equal((await cache.get('known'))?.id, 'known')
    }
    assert.deepEqual(store.reads, ['unknown', 'known'])
    assert.deepEqual(cache.stats, { hits: 4, misses: 2 })
    clock.advance(5000)
    await cache.get('unknown')
    assert.deepEqual(store.reads, ['unknown', 'known', 'unknown'])
  })

  it('drops an unknown entry on invalidate, so a client created under that id is found at once', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1))
    const known: string[] = []
    const store = countingStore(known)
    const cache = new ClientCache({ store, clock }, 60_000)
    assert.equal(await cache.get('newcomer'), undefined)
    known.push('newcomer')
    cache.invalidate('newcomer')
    assert.equal((await cache.get('newcomer'))?.id, 'newcomer')
  })

  it('does not cache an answer read while an invalidation happened', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1))
    const store = countingStore([])
    let cache: ClientCache | undefined
    const racing = { getClient: async (id: string) => { const answer = await store.getClient(id); cache?.invalidate(id); return answer } }
    cache = new ClientCache({ store: racing, clock }, 60_000)
    await cache.get('racing')
    await cache.get('racing')
    assert.deepEqual(store.reads, ['racing', 'racing'])
  })

  it('stays bounded under a flood of random ids and keeps the live clients cached', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1))
    const store = countingStore(['live'])
    const cache = new ClientCache({ store, clock }, 60_000)
    await cache.get('live')
    for (let i = 0; i < 100_100; i++) await cache.get(`random-${i}`)
    const reads = store.reads.length
    assert.equal((await cache.get('live'))?.id, 'live')
    assert.equal(store.reads.length, reads, 'live was still cached')
    await cache.get('random-0')
    assert.equal(store.reads.length, reads + 1, 'the oldest random id was evicted')
  })
})

describe('unknown client ids at the token endpoint', () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer({ env: { GATEHOUSE_CLIENT_CACHE_TTL_MS: '60000' } })
  })
  after(() => server.close())

  const tokenRequest = (secret: string): Promise<{ status: number }> =>
    request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id: 'newcomer', secret } })

  it('reads the store for an unknown id once, then answers from memory', async () => {
    const cache = server.server.gatehouse.clientCache
    assert.equal((await tokenRequest('not-the-secret-000')).status, 401)
    const before = cache.stats
    assert.equal((await tokenRequest('not-the-secret-000')).status, 401)
    assert.deepEqual(cache.stats, { hits: before.hits + 1, misses: before.misses })
  })

  it('authenticates a client created under that id at once', async () => {
    const { secret } = await server.createClient({ id: 'newcomer' })
    assert.equal((await tokenRequest(secret)).status, 200)
  })
})
