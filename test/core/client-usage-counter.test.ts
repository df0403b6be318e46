import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ClientUsageCounter } from '../../src/core/audit/client-usage-counter.js'
import type { ClientUsage, ClientUsageIncrement, ClientUsageStore } from '../../src/core/audit/client-usage-store.js'

/** The store's contract in memory (the SQL one is in test/store/store-conformance.test.ts). */
class MemoryUsageStore implements ClientUsageStore {
  readonly rows = new Map<string, ClientUsageIncrement>()
  writes = 0
  fail: Error | undefined
  async addClientUsage(increments: readonly ClientUsageIncrement[]): Promise<void> {
    if (this.fail) throw this.fail
    this.writes++
    for (const increment of increments) {
      const key = `${increment.clientId} ${increment.grantType}`
      const row = this.rows.get(key)
      this.rows.set(key, row ? { ...row, count: row.count + increment.count, lastIssuedAt: Math.max(row.lastIssuedAt, increment.lastIssuedAt) } : { ...increment })
    }
  }
  async listClientUsage(clientId: string): Promise<ClientUsage[]> {
    return [...this.rows.values()].filter((row) => row.clientId === clientId).map(({ grantType, count, lastIssuedAt }) => ({ grantType, count, lastIssuedAt })).sort((a, b) => a.grantType.localeCompare(b.grantType))
  }
}

const setup = () => {
  const store = new MemoryUsageStore()
  const errors: unknown[] = []
  return { store, errors, counter: new ClientUsageCounter({ store, onError: (error) => errors.push(error) }) }
}

describe('ClientUsageCounter', () => {
  it('counts in memory with no write per token, and adds one increment per client and grant on flush', async () => {
    const { store, counter } = setup()
    counter.recordIssued('c1', 'client_credentials', 1000)
    counter.recordIssued('c1', 'client_credentials', 3000)
    counter.recordIssued('c1', 'refresh_token', 2000)
    counter.recordIssued('c2', 'password', 4000)
    assert.equal(store.writes, 0)
    assert.deepEqual(await counter.usageOf('c1'), { issued: 3, lastIssuedAt: 3000, byGrant: { client_credentials: 2, refresh_token: 1 } })
    await counter.flush()
    assert.equal(store.writes, 1)
    assert.deepEqual(await store.listClientUsage('c1'), [{ grantType: 'client_credentials', count: 2, lastIssuedAt: 3000 }, { grantType: 'refresh_token', count: 1, lastIssuedAt: 2000 }])
    // After the flush the page reads the store: the same sums, nothing counted twice.
    assert.deepEqual(await counter.usageOf('c1'), { issued: 3, lastIssuedAt: 3000, byGrant: { client_credentials: 2, refresh_token: 1 } })
    await counter.flush()
    assert.equal(store.writes, 1, 'nothing to flush, nothing written')
  })

  it('sums the store (every instance) and its own unflushed counts', async () => {
    const { store, counter } = setup()
    const other = new ClientUsageCounter({ store, onError: () => {} })
    other.recordIssued('c1', 'client_credentials', 5000)
    await other.flush()
    counter.recordIssued('c1', 'client_credentials', 6000)
    assert.deepEqual(await counter.usageOf('c1'), { issued: 2, lastIssuedAt: 6000, byGrant: { client_credentials: 2 } })
    assert.deepEqual(await counter.usageOf('nobody'), { issued: 0, lastIssuedAt: null, byGrant: {} })
  })

  it('keeps the counts of a failed flush for the next one, merged with what came meanwhile, and reports the error', async () => {
    const { store, counter, errors } = setup()
    counter.recordIssued('c1', 'client_credentials', 1000)
    store.fail = new Error('database down')
    await counter.flush()
    assert.deepEqual(errors.map((error) => (error as Error).message), ['database down'])
    counter.recordIssued('c1', 'client_credentials', 2000)
    assert.deepEqual(await counter.usageOf('c1'), { issued: 2, lastIssuedAt: 2000, byGrant: { client_credentials: 2 } })
    store.fail = undefined
    await counter.flush()
    assert.deepEqual(await store.listClientUsage('c1'), [{ grantType: 'client_credentials', count: 2, lastIssuedAt: 2000 }])
  })

  it('writes what is left on stop (shutdown)', async () => {
    const { store, counter } = setup()
    counter.start(60_000)
    counter.recordIssued('c1', 'client_credentials', 1000)
    await counter.stop()
    assert.deepEqual(await store.listClientUsage('c1'), [{ grantType: 'client_credentials', count: 1, lastIssuedAt: 1000 }])
  })
})
