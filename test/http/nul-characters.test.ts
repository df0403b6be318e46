import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createOperatorToken } from '../../src/core/admin/operator-token.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request } from '../helpers/http.js'

/**
 * A NUL character cannot be stored in PostgreSQL text; sent in a path, query or body it must be a
 * clear 400 in the route's own shape on both databases, never a 500 (run with TEST_DATABASE_URL
 * set to PostgreSQL by .ci/run).
 */
describe('NUL characters in requests', () => {
  let server: TestServer
  let admin: string
  before(async () => {
    server = await startTestServer()
    const g = server.server.gatehouse
    admin = (await createOperatorToken({ store: g.store, clients: g.clients, operators: g.operators, tokens: g.tokens, audit: g.audit, maxAccessTokenTtl: g.config.maxAccessTokenTtl })).accessToken
  })
  after(() => server.close())

  it('answers 400 in each dialect\'s shape, never 500', async () => {
    const standard = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', client_id: 'a\u0000', client_secret: 'b' } })
    assert.deepEqual([standard.status, standard.body], [400, { error: 'invalid_request', error_description: 'The request could not be read.' }])
    const identityserver = await request(`${server.url}/connect/token`, { form: { grant_type: 'password', client_id: 'a\u0000', username: 'x', password: 'y' } })
    assert.deepEqual([identityserver.status, (identityserver.body as { error: string }).error], [400, 'invalid_request'])
    const wrapped = await request(`${server.url}/v1/auth/token`, { json: { client_id: 'a\u0000', client_secret: 'b' } })
    assert.equal(wrapped.status, 400)
    for (const path of ['/users/%00/end-sessions', '/clients/%00', '/api-keys?client_id=%00']) {
      const answer = await request(`${server.url}/admin/v1${path}`, { method: path.endsWith('sessions') ? 'POST' : 'GET', headers: { authorization: `Bearer ${admin}` } })
      assert.equal(answer.status, 400, path)
      assert.equal((answer.body as { type: string }).type, 'urn:gatehouse:problem:validation', path)
    }
    const page = await fetch(`${server.url}/oauth/authorize?client_id=%00`, { redirect: 'manual' })
    assert.equal(page.status, 400)
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/)
  })
})
