import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ManualClock } from '../../src/core/clock.js'
import { request as httpRequest } from 'node:http'
import { basicHeader, request, type HttpAnswer } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/** Everything a caller can compare between two answers, byte for byte (date and request id aside). */
function wire(answer: HttpAnswer): { status: number; headers: Record<string, string | null>; text: string } {
  const headers: Record<string, string | null> = {}
  for (const name of ['content-type', 'content-length', 'cache-control', 'pragma', 'retry-after', 'www-authenticate']) headers[name] = answer.headers.get(name)
  return { status: answer.status, headers, text: answer.text }
}

const MINUTE = 60_000

describe('login lockout (brute-force protection on the password grant)', () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1))
  let server: TestServer
  let client: { id: string; secret: string }

  before(async () => {
    // Defaults: 5 failures in 15 minutes lock for 5 minutes, then 10, 20… up to an hour.
    server = await startTestServer({ clock, env: { GATEHOUSE_RATE_LIMIT_IP: 'off' } })
    client = await server.createClient()
    await server.createUser('alice@example.com', 'correct horse battery staple')
    await server.createUser('carol@example.com', 'another long passphrase')
  })
  after(() => server.close())

  const login = (username: string, password: string): Promise<HttpAnswer> =>
    request(`${server.url}/oauth/token`, { form: { grant_type: 'password', username, password }, basic: client })

  it('locks a username after 5 failures: even the right password then gets the wrong-password answer', async () => {
    const wrong = wire(await login('alice@example.com', 'guess 1'))
    assert.deepEqual(JSON.parse(wrong.text), { error: 'invalid_grant', error_description: 'invalid_username_or_password' })
    for (let i = 2; i <= 5; i++) assert.deepEqual(wire(await login('alice@example.com', `guess ${i}`)), wrong)
    assert.deepEqual(wire(await login('alice@example.com', 'correct horse battery staple')), wrong, 'locked: the right password is refused alike')
    assert.deepEqual(wire(await login('ALICE@example.com ', 'correct horse battery staple')), wrong, 'the lock follows the normalised username')
  })

  it('answers an unknown username exactly as a locked or wrong one, before and after its own "lock"', async () => {
    const reference = wire(await login('alice@example.com', 'correct horse battery staple'))
    for (let i = 1; i <= 6; i++) assert.deepEqual(wire(await login('nobody@example.com', `guess ${i}`)), reference)
  })

  it('leaves other users alone', async () => {
    assert.equal((await login('carol@example.com', 'another long passphrase')).status, 200)
  })

  it('lifts the lock after 5 minutes, and a success forgets the failures', async () => {
    clock.advance(4 * MINUTE + 59_000)
    assert.equal((await login('alice@example.com', 'correct horse battery staple')).status, 400, 'still locked at 4:59')
    clock.advance(1_000)
    assert.equal((await login('alice@example.com', 'correct horse battery staple')).status, 200, 'free at 5:00')
    for (let i = 1; i <= 4; i++) assert.equal((await login('alice@example.com', `again ${i}`)).status, 400)
    assert.equal((await login('alice@example.com', 'correct horse battery staple')).status, 200, 'four failures do not lock')
  })

  it('locks for a growing interval: the next lock lasts 10 minutes', async () => {
    for (let i = 1; i <= 5; i++) await login('carol@example.com', `guess ${i}`)
    clock.advance(5 * MINUTE)
    // Carol's first lock: 5 minutes.
    assert.equal((await login('carol@example.com', 'another long passphrase')).status, 200)
    for (let i = 1; i <= 5; i++) await login('carol@example.com', `guess ${i}`)
    clock.advance(5 * MINUTE)
    assert.equal((await login('carol@example.com', 'another long passphrase')).status, 400, 'the second lock outlasts the first')
    clock.advance(5 * MINUTE)
    assert.equal((await login('carol@example.com', 'another long passphrase')).status, 200, 'and ends after 10 minutes')
  })

  it('applies the same lock on the IdentityServer dialect', async () => {
    for (let i = 1; i <= 5; i++) await login('alice@example.com', `guess ${i}`)
    const answer = await request(`${server.url}/connect/token`, {
      form: { grant_type: 'password', client_id: client.id, client_secret: client.secret, username: 'alice@example.com', password: 'correct horse battery staple' },
    })
    assert.deepEqual({ status: answer.status, body: answer.body }, { status: 400, body: { error: 'invalid_grant', error_description: 'invalid_username_or_password' } })
  })

  it('records each failed attempt, and the lock, in the audit log without the password', async () => {
    // The audit log writes in the background, in batches.
    await server.server.gatehouse.audit.flush()
    const events = await server.server.gatehouse.audit.list({ limit: 200 })
    const failures = events.filter((event) => event.action === 'user.authentication_failed' && event.target === 'user:alice@example.com')
    assert.ok(failures.length >= 12, `every failure is an audit event (${failures.length})`)
    assert.ok(failures.some((event) => /account locked for 300 s/.test(String(event.details.reason))), 'the failure that locked says so')
    assert.ok(failures.some((event) => /^account locked \(\d+ s left\)$/.test(String(event.details.reason))), 'attempts during a lock are events too')
    assert.ok(!JSON.stringify(events).includes('correct horse'), 'no password in the audit log')
    assert.ok(!server.logs.text.includes('correct horse'), 'no password in the logs')
  })

  it('counts the lockout refusals in the metrics', async () => {
    assert.match((await request(`${server.url}/metrics`)).text, /^gatehouse_rate_limited_total\{scope="user_lockout"\} \d+$/m)
  })
})

describe('lockout per (username, address), with a per-username ceiling that slows instead of locking', () => {
  const clock = new ManualClock(Date.UTC(2026, 6, 1))
  let server: TestServer
  let client: { id: string; secret: string }

  before(async () => {
    server = await startTestServer({ clock, env: { GATEHOUSE_RATE_LIMIT_IP: 'off', GATEHOUSE_LOCKOUT_SLOWDOWN: '1s' } })
    client = await server.createClient()
    await server.createUser('victim@example.com', 'the victim knows this one')
  })
  after(() => server.close())

  /** A password grant sent from one loopback address (127.0.0.x), as a client elsewhere would. */
  function loginFrom(address: string, password: string): Promise<{ status: number; ms: number }> {
    const body = new URLSearchParams({ grant_type: 'password', username: 'victim@example.com', password }).toString()
    const started = performance.now()
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${server.url}/oauth/token`, {
        method: 'POST',
        localAddress: address,
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicHeader(client.id, client.secret) },
      }, (res) => {
        res.resume()
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }))
      })
      req.once('error', reject)
      req.end(body)
    })
  }

  it("an attacker's wrong guesses lock the attacker's address out, not the owner: the owner logs in from elsewhere, slowed", async () => {
    for (let i = 1; i <= 5; i++) assert.equal((await loginFrom('127.0.0.66', `guess ${i}`)).status, 400)
    assert.equal((await loginFrom('127.0.0.66', 'the victim knows this one')).status, 400, 'locked for the attacking address, even the right password')
    const owner = await loginFrom('127.0.0.7', 'the victim knows this one')
    assert.equal(owner.status, 200, 'the owner, from another address, is not locked out')
    // Past the username's ceiling every attempt waits GATEHOUSE_LOCKOUT_SLOWDOWN before its password check.
    assert.ok(owner.ms >= 1000, `slowed: ${owner.ms.toFixed(0)} ms`)
  })

  it("an operator's unlock lifts the lock for every address, and the slowdown", async () => {
    assert.equal((await loginFrom('127.0.0.66', 'the victim knows this one')).status, 400)
    await server.server.gatehouse.guard.unlockUser('victim@example.com')
    const after = await loginFrom('127.0.0.66', 'the victim knows this one')
    assert.equal(after.status, 200)
  })
})
