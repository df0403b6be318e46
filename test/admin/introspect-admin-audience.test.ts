import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createOperatorToken } from '../../src/core/admin/operator-token.js'
import { request, type HttpAnswer } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/** Issue 12 item 3: a token for the admin audience is no tenant client's business (RFC 7662 §4). */
describe('introspecting a token for the admin audience', () => {
  let server: TestServer
  let admin: string
  let tenant: { id: string; secret: string }
  let operator: { id: string; secret: string }
  before(async () => {
    server = await startTestServer()
    const g = server.server.gatehouse
    admin = (await createOperatorToken({ store: g.store, clients: g.clients, operators: g.operators, tokens: g.tokens, audit: g.audit, maxAccessTokenTtl: g.config.maxAccessTokenTtl })).accessToken
    tenant = await server.createClient()
    operator = await server.createClient()
    await g.operators.put('client', operator.id, 'read-only')
  })
  after(() => server.close())

  const standard = (client: { id: string; secret: string }, token: string): Promise<HttpAnswer> => request(`${server.url}/oauth/introspect`, { form: { token }, basic: client })
  const identityserver = (client: { id: string; secret: string }, token: string): Promise<HttpAnswer> =>
    request(`${server.url}/connect/introspect`, { form: { token, client_id: client.id, client_secret: client.secret } })

  it('answers an ordinary client {"active":false} at /oauth/introspect and /connect/introspect', async () => {
    for (const introspect of [standard, identityserver]) {
      const answer = await introspect(tenant, admin)
      assert.deepEqual([answer.status, answer.body], [200, { active: false }])
    }
  })

  it('shows it to a client on the operator list', async () => {
    for (const introspect of [standard, identityserver]) {
      const answer = await introspect(operator, admin)
      assert.equal(answer.status, 200)
      assert.deepEqual({ active: (answer.body as { active: unknown }).active, aud: (answer.body as { aud: unknown }).aud }, { active: true, aud: `${server.config.issuer}/admin/v1` })
    }
  })

  it('still shows an ordinary client its own tenant tokens', async () => {
    const issued = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: tenant })
    const answer = await standard(tenant, (issued.body as { access_token: string }).access_token)
    assert.equal((answer.body as { active: unknown }).active, true)
  })
})
