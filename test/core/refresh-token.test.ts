import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock } from '../../src/core/clock.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request, type HttpAnswer } from '../helpers/http.js'

const INVALID_GRANT = { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked.' }
const DAY = 24 * 3600 * 1000

describe('refresh tokens', () => {
  let server: TestServer
  let tokenUrl: string
  const clock = new ManualClock(Date.now())
  let client: { id: string; secret: string }
  let retrying: { id: string; secret: string }
  let other: { id: string; secret: string }
  let keeping: { id: string; secret: string }

  before(async () => {
    server = await startTestServer({ clock })
    tokenUrl = `${server.url}/oauth/token`
    client = await server.createClient({ refreshTokenAbsoluteTtl: 10 * 24 * 3600, refreshTokenSlidingTtl: 3 * 24 * 3600 })
    retrying = await server.createClient({ refreshTokenReuseInterval: 30 })
    other = await server.createClient()
    keeping = await server.createClient({ rotateRefreshTokens: false })
    await server.createUser('bob@example.com', 'bobs password')
  })
  after(() => server.close())

  async function login(as: { id: string; secret: string }, scope = 'api read'): Promise<{ access_token: string; refresh_token: string }> {
    const answer = await request(tokenUrl, { form: { grant_type: 'password', username: 'bob@example.com', password: 'bobs password', scope }, basic: as })
    assert.equal(answer.status, 200, answer.text)
    return answer.body as { access_token: string; refresh_token: string }
  }

  const refresh = (as: { id: string; secret: string }, token: string, extra: Record<string, string> = {}): Promise<HttpAnswer> =>
    request(tokenUrl, { form: { grant_type: 'refresh_token', refresh_token: token, ...extra }, basic: as })

  const introspect = async (token: string): Promise<boolean> =>
    ((await request(`${server.url}/oauth/introspect`, { form: { token }, basic: client })).body as { active: boolean }).active

  it('rotates the refresh token on every use', async () => {
    const first = await login(client)
    const answer = await refresh(client, first.refresh_token)
    assert.equal(answer.status, 200)
    const body = answer.body as Record<string, unknown>
    assert.deepEqual(Object.keys(body), ['access_token', 'token_type', 'expires_in', 'refresh_token', 'scope'])
    assert.notEqual(body.refresh_token, first.refresh_token)
    assert.equal(body.scope, 'api read')
    assert.equal(answer.headers.get('cache-control'), 'no-store')
  })

  it('may narrow the scope on refresh but never widen it (RFC 6749 §6)', async () => {
    const first = await login(client, 'api')
    const wider = await refresh(client, first.refresh_token, { scope: 'api write' })
    assert.deepEqual({ status: wider.status, body: wider.body }, {
      status: 400,
      body: { error: 'invalid_scope', error_description: "The scope 'write' was not granted originally." },
    })
    const narrowed = await login(client, 'api read')
    const answer = await refresh(client, narrowed.refresh_token, { scope: 'read' })
    assert.equal((answer.body as Record<string, unknown>).scope, 'read')
  })

  it('refuses a rotated refresh token and revokes its family (RFC 9700 §4.14)', async () => {
    const first = await login(client)
    const second = (await refresh(client, first.refresh_token)).body as { refresh_token: string }
    const reuse = await refresh(client, first.refresh_token)
    assert.deepEqual({ status: reuse.status, body: reuse.body }, { status: 400, body: INVALID_GRANT })
    // The successor was revoked with the family.
    const successor = await refresh(client, second.refresh_token)
    assert.deepEqual({ status: successor.status, body: successor.body }, { status: 400, body: INVALID_GRANT })
    assert.equal(await introspect(second.refresh_token), false)
    assert.match(server.logs.text, /refresh token reuse detected; grant ended/)
  })

  it('lets exactly one of many concurrent refreshes of one token succeed (reuse interval 0)', async () => {
    const first = await login(client)
    const answers = await Promise.all(Array.from({ length: 12 }, () => refresh(client, first.refresh_token)))
    const statuses = answers.map((answer) => answer.status).sort()
    assert.deepEqual(statuses, [200, ...Array(11).fill(400)])
    for (const answer of answers.filter((a) => a.status === 400)) assert.deepEqual(answer.body, INVALID_GRANT)
  })

  it('answers a retry inside the reuse interval with the same successor, not a second chain', async () => {
    const first = await login(retrying)
    const lost = await refresh(retrying, first.refresh_token)
    assert.equal(lost.status, 200)
    clock.advance(10_000)
    const retry = await refresh(retrying, first.refresh_token)
    assert.equal(retry.status, 200)
    const retried = retry.body as { refresh_token: string }
    assert.equal(retried.refresh_token, (lost.body as { refresh_token: string }).refresh_token)
    assert.equal((await refresh(retrying, retried.refresh_token)).status, 200)
  })

  it('treats a retry inside the interval as reuse once the successor was used, and ends the grant', async () => {
    const first = await login(retrying)
    const next = (await refresh(retrying, first.refresh_token)).body as { refresh_token: string; access_token: string }
    const after = (await refresh(retrying, next.refresh_token)).body as { refresh_token: string; access_token: string }
    const replay = await refresh(retrying, first.refresh_token)
    assert.deepEqual({ status: replay.status, body: replay.body }, { status: 400, body: INVALID_GRANT })
    assert.equal((await refresh(retrying, after.refresh_token)).status, 400)
    assert.equal(await introspect(after.access_token), false)
  })

  it('treats a reuse after the reuse interval as an attack', async () => {
    const first = await login(retrying)
    const next = (await refresh(retrying, first.refresh_token)).body as { refresh_token: string }
    clock.advance(31_000)
    const late = await refresh(retrying, first.refresh_token)
    assert.deepEqual({ status: late.status, body: late.body }, { status: 400, body: INVALID_GRANT })
    assert.equal((await refresh(retrying, next.refresh_token)).status, 400)
  })

  it('lets 20 concurrent refreshes inside a reuse interval all succeed with one and the same successor', async () => {
    const first = await login(retrying)
    const answers = await Promise.all(Array.from({ length: 20 }, () => refresh(retrying, first.refresh_token)))
    assert.deepEqual(answers.map((a) => a.status), Array(20).fill(200))
    const successors = new Set(answers.map((a) => (a.body as { refresh_token: string }).refresh_token))
    assert.equal(successors.size, 1)
    // One live chain: using the successor once makes it used for every holder.
    const [successor] = [...successors] as [string]
    assert.equal((await refresh(retrying, successor)).status, 200)
    assert.equal(await introspect(successor), false)
  })

  it("refuses another client's refresh token exactly like an unknown one, and leaves it usable", async () => {
    const first = await login(client)
    const stolen = await refresh(other, first.refresh_token)
    assert.deepEqual({ status: stolen.status, body: stolen.body }, { status: 400, body: INVALID_GRANT })
    assert.equal((await refresh(client, first.refresh_token)).status, 200)
  })

  it('expires a refresh token after its sliding lifetime without use', async () => {
    const first = await login(client)
    clock.advance(3 * DAY + 1000)
    const answer = await refresh(client, first.refresh_token)
    assert.deepEqual({ status: answer.status, body: answer.body }, { status: 400, body: INVALID_GRANT })
  })

  it('ends a family at its absolute lifetime however often it is refreshed', async () => {
    let token = (await login(client)).refresh_token
    for (let day = 0; day < 9; day++) {
      clock.advance(DAY)
      const answer = await refresh(client, token)
      assert.equal(answer.status, 200, `day ${day + 1}`)
      token = (answer.body as { refresh_token: string }).refresh_token
    }
    clock.advance(DAY + 1000)
    const answer = await refresh(client, token)
    assert.deepEqual({ status: answer.status, body: answer.body }, { status: 400, body: INVALID_GRANT })
  })

  it('keeps the same refresh token for a client set not to rotate, and still detects nothing wrong on reuse', async () => {
    const first = await login(keeping)
    const once = await refresh(keeping, first.refresh_token)
    const twice = await refresh(keeping, first.refresh_token)
    assert.equal(once.status, 200)
    assert.equal(twice.status, 200)
    assert.equal((twice.body as { refresh_token: string }).refresh_token, first.refresh_token)
  })

  it('expires access tokens: introspection says inactive after exp', async () => {
    const first = await login(client)
    assert.equal(await introspect(first.access_token), true)
    clock.advance(3600 * 1000 + 1000)
    assert.equal(await introspect(first.access_token), false)
  })
})
