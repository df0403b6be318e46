import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createOperatorToken } from '../../src/core/admin/operator-token.js'
import { request } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/** Issue 12 item 2: management answers hold user and client data; no cache may keep them (RFC 9111 §5.2.2.5). */
describe('management API answers carry Cache-Control: no-store', () => {
  let server: TestServer
  let admin: string
  let clientId: string
  const api = (path: string): string => `${server.url}/admin/v1${path}`
  before(async () => {
    server = await startTestServer()
    const g = server.server.gatehouse
    admin = (await createOperatorToken({ store: g.store, clients: g.clients, operators: g.operators, tokens: g.tokens, audit: g.audit, maxAccessTokenTtl: g.config.maxAccessTokenTtl })).accessToken
    clientId = (await server.createClient()).id
  })
  after(() => server.close())

  it('on every GET that succeeds', async () => {
    const auth = { authorization: `Bearer ${admin}` }
    for (const path of ['/clients', `/clients/${clientId}`, '/users', '/operators', '/signing-keys', '/audit-events', '/apis', '/api-keys']) {
      const answer = await request(api(path), { headers: auth })
      assert.deepEqual({ path, status: answer.status, cacheControl: answer.headers.get('cache-control') }, { path, status: 200, cacheControl: 'no-store' })
    }
  })

  it('on a created resource and on problems', async () => {
    const auth = { authorization: `Bearer ${admin}` }
    const created = await request(api('/users'), { json: { username: 'cache@example.com', password: 'cache-password-1' }, headers: auth })
    const answers = [created, await request(api('/clients')), await request(api('/clients/nope'), { headers: auth }), await request(api('/no-such-thing'), { headers: auth })]
    assert.deepEqual(answers.map((answer) => [answer.status, answer.headers.get('cache-control')]), [[201, 'no-store'], [401, 'no-store'], [404, 'no-store'], [404, 'no-store']])
  })
})
