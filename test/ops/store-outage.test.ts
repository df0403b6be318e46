import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { createOperatorToken } from '../../src/core/admin/operator-token.js'
import { createPostgresTestDatabase } from '../helpers/database.js'
import { basicHeader } from '../helpers/http.js'
import { POSTGRES_URL, skipWithoutPostgres } from '../helpers/postgres.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/** One request of the load: what was sent, when, and what came back. */
interface Sample {
  dialect: string
  sender: string
  started: number
  ended: number
  status: number
  requestId: string | null
  retryAfter: string | null
  body: unknown
}

const UNAVAILABLE = { error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable; retry shortly.' }

/** The 503 each dialect answers during an outage (plus the request id every 5xx body names). */
const OUTAGE_BODIES: Record<string, unknown> = {
  rfc6749: UNAVAILABLE,
  identityserver: UNAVAILABLE,
  canary: UNAVAILABLE,
  wrapped: { error: { code: '503001', code_reason: 'temporarily_unavailable', message: 'Service temporarily unavailable, retry shortly' } },
  admin: { type: 'urn:gatehouse:problem:unavailable', title: 'Service unavailable', status: 503, detail: 'The database is unreachable; retry shortly.' },
}

const skip = await skipWithoutPostgres()

describe('a PostgreSQL outage under load', { skip }, () => {
  let server: TestServer
  let databaseName: string
  let admin: pg.Client
  const senders: Record<string, () => Promise<Response>> = {}

  before(async () => {
    const database = await createPostgresTestDatabase(POSTGRES_URL)
    databaseName = new URL(database.url).pathname.slice(1)
    // No client cache: every token request needs the database, so every one meets the outage.
    server = await startTestServer({ database, env: { GATEHOUSE_CLIENT_CACHE_TTL_MS: '0', GATEHOUSE_RATE_LIMIT_IP: 'off', GATEHOUSE_RATE_LIMIT_CLIENT: 'off' } })
    const g = server.server.gatehouse
    const client = await server.createClient({ grantTypes: ['client_credentials', 'password', 'refresh_token', 'api_key'] })
    // Opaque tokens are written in batches (group commit): a failed batch must answer 503 to each of its requests.
    const opaque = await server.createClient({ tokenFormat: 'opaque' })
    await server.createUser('frank@example.com', 'frank has a passphrase')
    const { apiKey } = await g.apiKeys.create({ name: 'outage', clientId: client.id, scopes: ['api'] })
    const operator = (await createOperatorToken({ store: g.store, clients: g.clients, operators: g.operators, tokens: g.tokens, audit: g.audit, maxAccessTokenTtl: g.config.maxAccessTokenTtl })).accessToken
    const form = (fields: Record<string, string>): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicHeader(client.id, client.secret) },
      body: new URLSearchParams(fields).toString(),
    })
    senders.rfc6749 = () => fetch(`${server.url}/oauth/token`, form({ grant_type: 'client_credentials' }))
    senders.password = () => fetch(`${server.url}/oauth/token`, form({ grant_type: 'password', username: 'frank@example.com', password: 'frank has a passphrase' }))
    senders.identityserver = () =>
      fetch(`${server.url}/connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret }).toString(),
      })
    const opaqueForm = (path: string): Promise<Response> =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicHeader(opaque.id, opaque.secret) },
        body: 'grant_type=client_credentials',
      })
    senders.opaque = () => opaqueForm('/oauth/token')
    senders['opaque-wrapped'] = () => opaqueForm('/v1/auth/token')
    senders.canary = () => fetch(`${server.url}/v2/oauth/request-tokens`, { method: 'POST', headers: { 'csc-api-key': apiKey } })
    senders.wrapped = () => fetch(`${server.url}/v1/auth/token`, form({ grant_type: 'client_credentials' }))
    senders.admin = () => fetch(`${server.url}/admin/v1/clients`, { headers: { authorization: `Bearer ${operator}` } })
    admin = new pg.Client({ connectionString: POSTGRES_URL })
    await admin.connect()
  })

  after(async () => {
    await admin.query(`ALTER DATABASE ${databaseName} ALLOW_CONNECTIONS true`).catch(() => {})
    await admin.end()
    await server.close()
  })

  /** Refuses new connections and kills the open ones: the database is gone for Gatehouse. */
  async function takeDatabaseDown(): Promise<void> {
    await admin.query(`ALTER DATABASE ${databaseName} ALLOW_CONNECTIONS false`)
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [databaseName])
  }

  /** Senders that are not a dialect of their own: the dialect whose shape they answer in. */
  const DIALECT_OF: Record<string, string> = { password: 'rfc6749', opaque: 'rfc6749', 'opaque-wrapped': 'wrapped' }

  async function sample(dialect: string): Promise<Sample> {
    const started = Date.now()
    const sender = senders[dialect] as () => Promise<Response>
    const response = await sender()
    const text = await response.text()
    return {
      dialect: DIALECT_OF[dialect] ?? dialect,
      sender: dialect,
      started,
      ended: Date.now(),
      status: response.status,
      requestId: response.headers.get('x-request-id'),
      retryAfter: response.headers.get('retry-after'),
      body: text === '' ? undefined : JSON.parse(text),
    }
  }

  it('answers 503 in each dialect\'s shape with Retry-After, never 500 or a hang, and recovers within 5 s', async () => {
    const samples: Sample[] = []
    let running = true
    const dialects = Object.keys(senders)
    const workers = dialects.map(async (dialect) => {
      while (running) samples.push(await sample(dialect))
    })

    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.ok(samples.length > 0 && samples.every((s) => s.status === 200), 'all good before the outage')

    await takeDatabaseDown()
    const downAt = Date.now()
    // Readiness follows: /readyz says 503 while JWKS and metadata (no database) keep answering.
    for (;;) {
      const ready = await fetch(`${server.url}/readyz`)
      if (ready.status === 503) break
      assert.ok(Date.now() - downAt < 5000, '/readyz turns 503 within 5 s')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const outageConfirmed = Date.now()
    await new Promise((resolve) => setTimeout(resolve, 1500))
    assert.equal((await fetch(`${server.url}/.well-known/jwks.json`)).status, 200)
    assert.equal((await fetch(`${server.url}/.well-known/oauth-authorization-server`)).status, 200)
    assert.deepEqual(await (await fetch(`${server.url}/readyz`)).json(), { status: 'unavailable', reason: 'database unreachable' })

    const recoveryStarted = Date.now()
    await admin.query(`ALTER DATABASE ${databaseName} ALLOW_CONNECTIONS true`)
    let recovered: number | undefined
    while (recovered === undefined) {
      const probe = await sample('rfc6749')
      if (probe.status === 200) recovered = Date.now() - recoveryStarted
      else assert.ok(Date.now() - recoveryStarted < 5000, 'service returns within 5 s of the database')
    }
    await new Promise((resolve) => setTimeout(resolve, 300))
    running = false
    await Promise.all(workers)

    const statuses = [...new Set(samples.map((s) => s.status))].sort()
    assert.deepEqual(statuses, [200, 503], 'only successes and 503s, never a 500')
    const slowest = Math.max(...samples.map((s) => s.ended - s.started))
    assert.ok(slowest < 8000, `no request hangs past the pool's timeouts (slowest ${slowest} ms)`)

    const during = samples.filter((s) => s.started >= outageConfirmed && s.ended <= recoveryStarted)
    assert.ok(during.length >= dialects.length, `the load went on during the outage (${during.length} requests)`)
    for (const s of during) {
      assert.deepEqual(
        { dialect: s.dialect, status: s.status, retryAfter: s.retryAfter, body: s.body },
        { dialect: s.dialect, status: 503, retryAfter: '5', body: { ...(OUTAGE_BODIES[s.dialect] as object), request_id: s.requestId } },
      )
    }
    for (const dialect of ['rfc6749', 'identityserver', 'canary', 'wrapped', 'admin']) {
      assert.ok(during.some((s) => s.dialect === dialect), `${dialect} was tried during the outage`)
    }
    for (const sender of ['opaque', 'opaque-wrapped']) assert.ok(during.some((s) => s.sender === sender), `${sender} was tried during the outage`)
    const afterRecovery = samples.filter((s) => s.started > recoveryStarted + (recovered as number) + 100)
    assert.ok(afterRecovery.length > 0 && afterRecovery.every((s) => s.status === 200), 'every dialect succeeds again, without a restart')
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200)
    process.stdout.write(`# outage: ${during.length} requests answered 503; service back ${recovered} ms after the database\n`)
  })
})
