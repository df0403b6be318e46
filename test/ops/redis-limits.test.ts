import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { ManualClock } from '../../src/core/clock.js'
import { createOperatorToken } from '../../src/core/admin/operator-token.js'
import { runCli } from '../helpers/processes.js'
import { request, type HttpAnswer } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** With `CI` set a missing Redis fails the file instead of skipping it. */
async function skipWithoutRedis(): Promise<string | false> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 })
  redis.on('error', () => {})
  try {
    await redis.connect()
    await redis.ping()
    return false
  } catch (error) {
    if (process.env.CI) throw new Error(`Redis is required in CI but does not answer at ${REDIS_URL}`, { cause: error })
    return `Redis does not answer at ${REDIS_URL}`
  } finally {
    redis.disconnect()
  }
}

const skip = await skipWithoutRedis()

describe('rate limits and lockout shared by two instances through Redis', { skip }, () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1))
  // A prefix of its own, so runs and other users of this Redis never share buckets.
  const prefix = `gatehouse-test:${randomBytes(6).toString('hex')}:`
  const env = { GATEHOUSE_REDIS_URL: REDIS_URL, GATEHOUSE_REDIS_PREFIX: prefix, GATEHOUSE_RATE_LIMIT_IP: '4/1m' }
  let first: TestServer
  let second: TestServer
  let client: { id: string; secret: string }

  before(async () => {
    first = await startTestServer({ clock, env })
    // The second instance shares the first one's database, as instances of one deployment do.
    second = await startTestServer({ clock, env, database: first.database })
    client = await first.createClient()
    await first.createUser('dave@example.com', 'a passphrase long enough')
  })
  after(async () => {
    await second.server.close()
    await first.close()
    const redis = new Redis(REDIS_URL)
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  })

  const token = (server: TestServer): Promise<HttpAnswer> => request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client })
  const login = (server: TestServer, password: string): Promise<HttpAnswer> =>
    request(`${server.url}/oauth/token`, { form: { grant_type: 'password', username: 'dave@example.com', password }, basic: client })

  it('counts one address across both instances: two requests on each, the fifth is refused', async () => {
    assert.equal((await token(first)).status, 200)
    assert.equal((await token(second)).status, 200)
    assert.equal((await token(first)).status, 200)
    assert.equal((await token(second)).status, 200)
    const refused = await token(first)
    assert.deepEqual(
      { status: refused.status, retryAfter: refused.headers.get('retry-after'), body: refused.body },
      { status: 429, retryAfter: '15', body: { error: 'rate_limited', error_description: 'Too many requests; retry later.' } },
    )
    assert.equal((await token(second)).status, 429)
    clock.advance(15_000)
    assert.equal((await token(second)).status, 200, 'a point refilled, seen by both')
    assert.equal((await token(first)).status, 429)
    clock.advance(60_000)
  })

  it('locks a username on every instance after failures spread over both', async () => {
    for (let i = 1; i <= 5; i++) {
      clock.advance(15_000)
      assert.equal((await login(i % 2 === 0 ? first : second, `guess ${i}`)).status, 400)
    }
    clock.advance(15_000)
    const locked = await login(first, 'a passphrase long enough')
    assert.deepEqual({ status: locked.status, body: locked.body }, { status: 400, body: { error: 'invalid_grant', error_description: 'invalid_username_or_password' } })
    clock.advance(15_000)
    assert.equal((await login(second, 'a passphrase long enough')).status, 400)
    clock.advance(5 * 60_000)
    assert.equal((await login(second, 'a passphrase long enough')).status, 200, 'the lock ends for both')
  })

  it('ends a lock on every instance when an operator unlocks it on one, or from the command line', async () => {
    const g = first.server.gatehouse
    const admin = (await createOperatorToken({ store: g.store, clients: g.clients, operators: g.operators, tokens: g.tokens, audit: g.audit, maxAccessTokenTtl: g.config.maxAccessTokenTtl })).accessToken
    const lock = async (): Promise<void> => {
      for (let i = 1; i <= 5; i++) {
        clock.advance(15_000)
        assert.equal((await login(first, `another guess ${i}`)).status, 400)
      }
      clock.advance(15_000)
      assert.equal((await login(second, 'a passphrase long enough')).status, 400, 'locked')
    }
    await lock()
    clock.advance(15_000)
    assert.equal((await request(`${first.url}/admin/v1/users/dave@example.com/unlock`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } })).status, 200)
    clock.advance(15_000)
    assert.equal((await login(second, 'a passphrase long enough')).status, 200, 'unlocked on the other instance too')
    await lock()
    const cli = await runCli(['users', 'unlock', 'dave@example.com', '--json'], {
      env: { GATEHOUSE_DATABASE_URL: first.database.url, GATEHOUSE_DATA_DIR: first.database.dataDir, GATEHOUSE_REDIS_URL: REDIS_URL, GATEHOUSE_REDIS_PREFIX: prefix },
    })
    assert.deepEqual([cli.code, cli.stderr], [0, ''])
    clock.advance(15_000)
    assert.equal((await login(first, 'a passphrase long enough')).status, 200, 'the command line reaches the shared lockout')
  })
})

describe('an unreachable Redis', { skip }, () => {
  it('falls back to limits per instance instead of failing or hanging requests', async () => {
    const server = await startTestServer({ env: { GATEHOUSE_REDIS_URL: 'redis://127.0.0.1:1', GATEHOUSE_RATE_LIMIT_IP: '2/1m' } })
    try {
      const client = await server.createClient()
      const statuses: number[] = []
      for (let i = 0; i < 3; i++) statuses.push((await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client })).status)
      assert.deepEqual(statuses, [200, 200, 429])
      assert.match((await request(`${server.url}/metrics`)).text, /^gatehouse_rate_limit_backend_errors_total [1-9]\d*$/m)
      assert.match(server.logs.text, /Redis \(shared rate limits\) is unreachable/)
    } finally {
      await server.close()
    }
  })
})
