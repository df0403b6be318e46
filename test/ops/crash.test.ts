import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { loadConfig } from '../../src/config.js'
import { digestSecret } from '../../src/core/credentials/secrets.js'
import { refreshTokenKey } from '../../src/core/tokens/refresh-token-format.js'
import { createGatehouse } from '../../src/gatehouse.js'
import { createLogger } from '../../src/logger.js'
import { openStore } from '../../src/store/open-store.js'
import { createPostgresTestDatabase, type TestDatabase } from '../helpers/database.js'
import { basicHeader } from '../helpers/http.js'
import { POSTGRES_URL, skipWithoutPostgres } from '../helpers/postgres.js'
import { spawnServer, type ServerProcess } from '../helpers/processes.js'
import { TEST_SECRET } from '../helpers/server.js'

const CHAINS = 8
/** Concurrent opaque issuers: enough that their inserts share batches (group commit). */
const ISSUERS = 16

interface Client {
  id: string
  secret: string
}

/** Clients and a user, created in this process before the server starts. */
async function seed(database: TestDatabase): Promise<{ refresher: Client; issuer: Client }> {
  const config = loadConfig({ database: database.url }, { GATEHOUSE_SECRET: TEST_SECRET, GATEHOUSE_DATA_DIR: database.dataDir })
  const gatehouse = await createGatehouse(config, { logger: createLogger('warn') })
  try {
    const refresher = await gatehouse.clients.create({ name: 'refresher', grantTypes: ['password', 'refresh_token'], scopes: ['api'] })
    // Opaque access tokens live in the database: their survival is part of the test.
    const issuer = await gatehouse.clients.create({ name: 'issuer', grantTypes: ['client_credentials'], scopes: ['api'], tokenFormat: 'opaque' })
    for (let i = 0; i < CHAINS; i++) await gatehouse.users.create({ username: `user${i}@example.com`, password: `password number ${i}!` })
    return {
      refresher: { id: refresher.client.id, secret: refresher.clientSecret },
      issuer: { id: issuer.client.id, secret: issuer.clientSecret },
    }
  } finally {
    await gatehouse.close()
  }
}

async function post(url: string, client: Client, fields: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicHeader(client.id, client.secret) },
    body: new URLSearchParams(fields).toString(),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

/** What the load generator received with a 200, in order. */
interface Chain {
  access: string[]
  refresh: string[]
}

async function crashUnderLoad(database: TestDatabase): Promise<void> {
  const { refresher, issuer } = await seed(database)
  const start = (): Promise<ServerProcess> => spawnServer({ database: database.url, dataDir: database.dataDir, env: { GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_ISSUER: 'https://gatehouse.test', GATEHOUSE_RATE_LIMIT_IP: 'off', GATEHOUSE_RATE_LIMIT_CLIENT: 'off' } })
  let server = await start()
  const chains: Chain[] = Array.from({ length: CHAINS }, () => ({ access: [], refresh: [] }))
  const issued: string[] = []
  let crashed = false

  const refreshLoop = async (index: number): Promise<void> => {
    const chain = chains[index] as Chain
    try {
      const first = await post(`${server.url}/oauth/token`, refresher, { grant_type: 'password', username: `user${index}@example.com`, password: `password number ${index}!` })
      assert.equal(first.status, 200)
      chain.access.push(first.body.access_token as string)
      chain.refresh.push(first.body.refresh_token as string)
      for (;;) {
        const next = await post(`${server.url}/oauth/token`, refresher, { grant_type: 'refresh_token', refresh_token: chain.refresh.at(-1) as string })
        assert.equal(next.status, 200, JSON.stringify(next.body))
        chain.access.push(next.body.access_token as string)
        chain.refresh.push(next.body.refresh_token as string)
      }
    } catch (error) {
      if (!crashed) throw error
    }
  }
  const issueLoop = async (): Promise<void> => {
    try {
      for (;;) {
        const answer = await post(`${server.url}/oauth/token`, issuer, { grant_type: 'client_credentials' })
        assert.equal(answer.status, 200)
        issued.push(answer.body.access_token as string)
      }
    } catch (error) {
      if (!crashed) throw error
    }
  }

  const load = [...chains.map((_, i) => refreshLoop(i)), ...Array.from({ length: ISSUERS }, issueLoop)]
  // Let the load run until every chain has rotated a few times, then kill -9 in the middle of it.
  for (let waited = 0; chains.some((chain) => chain.refresh.length < 4) || waited < 1000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50))
  crashed = true
  server.child.kill('SIGKILL')
  await Promise.all(load)
  assert.equal(await server.stop(), null, 'killed, not exited')

  server = await start()
  const store = openStore(database.url)
  try {
    const introspect = async (token: string): Promise<boolean> => {
      const answer = await post(`${server.url}/oauth/introspect`, issuer, { token })
      assert.equal(answer.status, 200)
      return answer.body.active === true
    }
    for (const token of issued) assert.equal(await introspect(token), true, 'every issued opaque token survived')

    const families = new Set<string>()
    for (const chain of chains) {
      for (const token of chain.access) assert.equal(await introspect(token), true, 'every access token received with a 200 is active')
      for (const [i, token] of chain.refresh.entries()) {
        const record = await store.findRefreshToken(refreshTokenKey(token))
        assert.ok(record, 'every refresh token received with a 200 is stored')
        families.add(record.familyId)
        assert.equal(record.grant.revokedAt, null, 'no grant was ended')
        const last = i === chain.refresh.length - 1
        if (!last) {
          assert.notEqual(record.usedAt, null, 'a token rotated by a later 200 is marked used')
          assert.equal(await introspect(token), false)
        } else if (record.usedAt === null) {
          assert.equal(await introspect(token), true, 'the last token received is live')
        }
        // else: its rotation committed but the 200 was lost in the kill; its successor is the family's live token.
      }
    }
    assert.equal(families.size, CHAINS)
    const live = await store.db
      .selectFrom('refresh_tokens')
      .select(['family_id', store.db.fn.countAll<number>().as('unused')])
      .where('family_id', 'in', [...families])
      .where('used_at', 'is', null)
      .groupBy('family_id')
      .execute()
    assert.deepEqual(
      live.map((row) => Number(row.unused)),
      Array.from({ length: CHAINS }, () => 1),
      'every family has exactly one unused token: none half-rotated',
    )
    // And the service carries on: each chain refreshes from its live token.
    for (const chain of chains) {
      const record = await store.findRefreshToken(refreshTokenKey(chain.refresh.at(-1) as string))
      if (record?.usedAt !== null) continue
      const next = await post(`${server.url}/oauth/token`, refresher, { grant_type: 'refresh_token', refresh_token: chain.refresh.at(-1) as string })
      assert.equal(next.status, 200)
    }
    const rotations = chains.reduce((sum, chain) => sum + chain.refresh.length, 0)
    process.stdout.write(`# crash: ${rotations} refresh tokens and ${issued.length} opaque tokens received before kill -9, all consistent after restart\n`)
  } finally {
    await store.close()
    await server.stop()
    await database.drop()
  }
}

const skipPostgres = await skipWithoutPostgres()

describe('kill -9 during a refresh-and-issue load', () => {
  it('loses no token it answered 200 for and leaves no family half-rotated (SQLite)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-crash-'))
    await crashUnderLoad({ url: `sqlite:${join(dataDir, 'gatehouse.db')}`, dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) })
  })

  it('loses no token it answered 200 for and leaves no family half-rotated (PostgreSQL)', { skip: skipPostgres }, async () => {
    await crashUnderLoad(await createPostgresTestDatabase(POSTGRES_URL))
  })
})
