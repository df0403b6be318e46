import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock } from '../../src/core/clock.js'
import { Housekeeping } from '../../src/core/housekeeping.js'
import { openStore } from '../../src/store/open-store.js'
import type { AuditEvent } from '../../src/core/audit/audit-store.js'
import type { Store } from '../../src/store/types.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

const event = (id: string, at: number, overrides: Partial<AuditEvent> = {}): AuditEvent => ({ id, at, actor: 'client:op', action: 'client.created', target: `client:${id}`, ip: '127.0.0.1', details: { n: id }, ...overrides })

describe(`audit and console-app storage (${process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'SQLite'})`, () => {
  let database: TestDatabase
  let store: Store

  before(async () => {
    database = await createTestDatabase()
    store = openStore(database.url)
    await store.migrate()
  })
  after(async () => {
    await store.close()
    await database.drop()
  })

  it('lists audit events newest first, pages through ties on the same millisecond without gaps or repeats', async () => {
    await store.appendAuditEvents([event('a', 1000), event('b', 2000), event('c', 2000), event('d', 2000), event('e', 3000, { actor: 'user:u', action: 'user.created', ip: null, target: null })])
    const all = await store.listAuditEvents({ limit: 10 })
    assert.deepEqual(all.map((e) => e.id), ['e', 'd', 'c', 'b', 'a'])
    assert.deepEqual(all[0], event('e', 3000, { actor: 'user:u', action: 'user.created', ip: null, target: null }))
    const seen: string[] = []
    let before: { at: number; id: string } | undefined
    for (;;) {
      const page = await store.listAuditEvents({ limit: 2, ...(before ? { before } : {}) })
      seen.push(...page.map((e) => e.id))
      const last = page.at(-1)
      if (page.length < 2 || !last) break
      before = { at: last.at, id: last.id }
    }
    assert.deepEqual(seen, ['e', 'd', 'c', 'b', 'a'])
  })

  it('filters by actor, action, target and a half-open time range', async () => {
    assert.deepEqual((await store.listAuditEvents({ limit: 10, actor: 'user:u' })).map((e) => e.id), ['e'])
    assert.deepEqual((await store.listAuditEvents({ limit: 10, action: 'client.created', from: 2000, to: 3000 })).map((e) => e.id), ['d', 'c', 'b'])
    assert.deepEqual((await store.listAuditEvents({ limit: 10, target: 'client:a' })).map((e) => e.id), ['a'])
  })

  it('filters events involving any of several subjects, as actor or as target, with the other filters', async () => {
    assert.deepEqual((await store.listAuditEvents({ limit: 10, involving: ['user:u', 'client:b'] })).map((e) => e.id), ['e', 'b'])
    assert.deepEqual((await store.listAuditEvents({ limit: 10, involving: ['client:c'], action: 'client.created' })).map((e) => e.id), ['c'])
    assert.deepEqual((await store.listAuditEvents({ limit: 10, involving: ['user:u'], action: 'client.created' })).map((e) => e.id), [])
    assert.deepEqual((await store.listAuditEvents({ limit: 10, involving: [] })).map((e) => e.id), [])
  })

  it('deletes audit events older than the retention in batches, through housekeeping', async () => {
    const clock = new ManualClock(3500)
    const housekeeping = new Housekeeping({ store, clock }, { intervalMs: 0, batchSize: 2, auditRetentionMs: 1000 })
    await housekeeping.runOnce()
    assert.deepEqual((await store.listAuditEvents({ limit: 10 })).map((e) => e.id), ['e'])
    assert.equal(await store.deleteAuditEventsBefore(3000, 10), 0)
  })

  it('stores console applications by owner and drops them with their client', async () => {
    const now = Date.UTC(2026, 10, 23)
    await store.insertClient({
      id: 'app-1', name: 'App', secretDigest: 'd', grantTypes: ['client_credentials'], scopes: [], defaultScopes: [], audience: null, tokenFormat: 'jwt', signingAlg: 'ES256',
      accessTokenTtl: 60, refreshTokenAbsoluteTtl: 60, refreshTokenSlidingTtl: 60, refreshTokenReuseInterval: 0, tokenReuseSeconds: 0, rotateRefreshTokens: true, allowedUsers: null, createdAt: now, updatedAt: now,
      tokensNotBefore: null, tokenEndpointAuthMethod: 'client_secret_basic', applicationType: null, redirectUris: [], postLogoutRedirectUris: [], requirePar: false, skipConsent: false, resources: [], allowImpersonation: false,
    })
    const app = { clientId: 'app-1', ownerUserId: 'u1', kind: 'client' as const, apiKeyId: null, createdAt: now }
    await store.insertConsoleApp(app)
    assert.deepEqual(await store.getConsoleApp('app-1'), app)
    assert.deepEqual(await store.listConsoleApps('u1'), [app])
    assert.deepEqual(await store.listConsoleApps('u2'), [])
    await assert.rejects(store.insertConsoleApp(app), { name: 'DuplicateError' })
    assert.equal(await store.deleteClient('app-1'), true)
    assert.equal(await store.getConsoleApp('app-1'), undefined)
    assert.equal(await store.deleteConsoleApp('app-1'), false)
  })
})
