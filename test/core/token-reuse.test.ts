import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createOperatorToken } from '../../src/core/admin/operator-token.js'
import { ManualClock } from '../../src/core/clock.js'
import { dpopKey } from '../helpers/dpop.js'
import { request, type HttpAnswer } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

type Credentials = { id: string; secret: string }
type TokenBody = { access_token: string; token_type: string; expires_in: number; scope: string }

describe('client_credentials token reuse (a per-client window, off by default)', () => {
  let server: TestServer
  // A whole second, so remaining lifetimes come out exact.
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000)

  before(async () => {
    server = await startTestServer({ clock })
  })
  after(() => server.close())

  const ask = (client: Credentials, form: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<HttpAnswer> =>
    request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', scope: 'api', ...form }, basic: client, headers })

  const token = async (client: Credentials, form: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<TokenBody> => {
    const answer = await ask(client, form, headers)
    assert.equal(answer.status, 200, answer.text)
    return answer.body as TokenBody
  }

  const reusing = (seconds = 60, settings: Record<string, unknown> = {}) => server.createClient({ tokenReuseSeconds: seconds, accessTokenTtl: 600, ...settings })

  it('gives a new token every time when the client has no window', async () => {
    const client = await server.createClient()
    assert.notEqual((await token(client)).access_token, (await token(client)).access_token)
  })

  it('gives the same token with its remaining lifetime within the window, a new one after it', async () => {
    const client = await reusing(60)
    const first = await token(client)
    assert.deepEqual(first, { access_token: first.access_token, token_type: 'Bearer', expires_in: 600, scope: 'api' })
    clock.advance(20_000)
    const again = await token(client)
    assert.deepEqual(again, { ...first, expires_in: 580 })
    clock.advance(40_000)
    const later = await token(client)
    assert.notEqual(later.access_token, first.access_token)
    assert.equal(later.expires_in, 600)
  })

  it('gives another token for other scopes', async () => {
    const client = await reusing()
    const api = await token(client)
    const read = await token(client, { scope: 'read' })
    assert.notEqual(read.access_token, api.access_token)
    assert.equal((await token(client)).access_token, api.access_token)
  })

  it('reuses opaque tokens too, and they stay active', async () => {
    const client = await reusing(60, { tokenFormat: 'opaque' })
    const first = await token(client)
    assert.equal((await token(client)).access_token, first.access_token)
    const answer = await request(`${server.url}/oauth/introspect`, { form: { token: first.access_token }, basic: client })
    assert.equal((answer.body as { active: boolean }).active, true)
  })

  it('never hands a DPoP-bound token to another key, nor to a bearer request', async () => {
    const client = await reusing()
    const htu = `${server.url}/oauth/token`
    const [one, other] = [await dpopKey(), await dpopKey()]
    const proof = (key: typeof one) => key.proof({ htm: 'POST', htu, iat: Math.floor(clock.now() / 1000) })
    const bound = await token(client, {}, { dpop: await proof(one) })
    assert.equal(bound.token_type, 'DPoP')
    assert.equal((await token(client, {}, { dpop: await proof(one) })).access_token, bound.access_token, 'same key: reused')
    const otherKey = await token(client, {}, { dpop: await proof(other) })
    assert.notEqual(otherKey.access_token, bound.access_token)
    const bearer = await token(client)
    assert.equal(bearer.token_type, 'Bearer')
    assert.notEqual(bearer.access_token, bound.access_token)
    assert.notEqual(bearer.access_token, otherKey.access_token)
  })

  it('stops when the token is revoked (RFC 7009)', async () => {
    const client = await reusing()
    const first = await token(client)
    assert.equal((await request(`${server.url}/oauth/revoke`, { form: { token: first.access_token }, basic: client })).status, 200)
    assert.notEqual((await token(client)).access_token, first.access_token)
  })

  it('stops when the secret is rotated with revoke-tokens', async () => {
    const client = await reusing()
    const first = await token(client)
    const rotated = await server.server.gatehouse.clients.rotateSecret(client.id, { revokeTokens: true })
    assert.ok(rotated)
    const next = await token({ id: client.id, secret: rotated.clientSecret })
    assert.notEqual(next.access_token, first.access_token)
  })

  it('stops on revoke-tokens and on any change of the client', async () => {
    const client = await reusing()
    const first = await token(client)
    await server.server.gatehouse.clients.revokeTokens(client.id)
    const second = await token(client)
    assert.notEqual(second.access_token, first.access_token)
    await server.server.gatehouse.clients.update(client.id, { name: 'renamed' })
    assert.notEqual((await token(client)).access_token, second.access_token)
  })

  it('stops when the client is deleted: its credentials no longer work', async () => {
    const client = await reusing()
    await token(client)
    await server.server.gatehouse.clients.delete(client.id)
    assert.equal((await ask(client)).status, 401)
  })

  it('refuses a window outside 0 to 3600 seconds', async () => {
    await assert.rejects(server.createClient({ tokenReuseSeconds: 3601 }), /token reuse must be 0 \(off\) to 3600 seconds/)
    await assert.rejects(server.createClient({ tokenReuseSeconds: -1 }), /token reuse must be 0 \(off\) to 3600 seconds/)
  })

  it('is set through the management API, which refuses a window out of range with a 400 problem', async () => {
    const g = server.server.gatehouse
    const operator = (await createOperatorToken({ store: g.store, clients: g.clients, operators: g.operators, tokens: g.tokens, audit: g.audit, maxAccessTokenTtl: g.config.maxAccessTokenTtl })).accessToken
    const create = (body: Record<string, unknown>) => request(`${server.url}/admin/v1/clients`, { method: 'POST', json: { name: 'reuse', scopes: ['api'], ...body }, headers: { authorization: `Bearer ${operator}` } })
    const created = await create({ token_reuse_seconds: 30 })
    assert.equal(created.status, 201, created.text)
    assert.equal((created.body as { token_reuse_seconds: number }).token_reuse_seconds, 30)
    const refused = await create({ token_reuse_seconds: 3601 })
    assert.equal(refused.status, 400)
    assert.equal(refused.headers.get('content-type'), 'application/problem+json; charset=utf-8')
    assert.equal((refused.body as { status: number }).status, 400)
  })
})
