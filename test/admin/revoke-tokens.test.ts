import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createOperatorToken } from '../../src/core/admin/operator-token.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request } from '../helpers/http.js'
import { runCli } from '../helpers/processes.js'

/**
 * Ending every token of a client, whatever it authenticates with: the answer to a leaked key
 * of a private_key_jwt client or a leaked token of a public one, which have no secret to rotate.
 */
describe('clients revoke-tokens (CLI) and POST /admin/v1/clients/{id}/revoke-tokens', () => {
  let server: TestServer
  let admin: string
  let readOnly: string
  const PASSWORD = 'correct horse battery staple'

  before(async () => {
    server = await startTestServer()
    const g = server.server.gatehouse
    const deps = { store: g.store, clients: g.clients, operators: g.operators, tokens: g.tokens, audit: g.audit, maxAccessTokenTtl: g.config.maxAccessTokenTtl }
    admin = (await createOperatorToken(deps)).accessToken
    readOnly = (await createOperatorToken(deps, { role: 'read-only' })).accessToken
    await server.createUser('kim@example.com', PASSWORD)
  })
  after(() => server.close())

  const tokensOf = async (client: { id: string; secret: string }) => {
    const cc = (await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', scope: 'api' }, basic: client })).body as { access_token: string }
    const user = (await request(`${server.url}/oauth/token`, { form: { grant_type: 'password', username: 'kim@example.com', password: PASSWORD, scope: 'api' }, basic: client })).body as { access_token: string; refresh_token: string }
    return { cc: cc.access_token, user: user.access_token, refresh: user.refresh_token }
  }
  const active = async (client: { id: string; secret: string }, token: string): Promise<boolean> =>
    ((await request(`${server.url}/oauth/introspect`, { form: { token }, basic: client })).body as { active: boolean }).active

  it('ends the client\'s grants and its earlier client_credentials tokens; tokens issued after work; a read-only operator may not', async () => {
    const client = await server.createClient({ scopes: ['api'] })
    const observer = await server.createClient({ scopes: ['api'] })
    const before = await tokensOf(client)
    assert.deepEqual([await active(observer, before.cc), await active(observer, before.user)], [true, true])
    const refused = await request(`${server.url}/admin/v1/clients/${client.id}/revoke-tokens`, { method: 'POST', headers: { authorization: `Bearer ${readOnly}` } })
    assert.equal(refused.status, 403)
    assert.equal(await active(observer, before.cc), true, 'a refused request changed nothing')
    // Whole-second JWT iat: a token minted in the same second as the revocation would count as earlier.
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const answer = await request(`${server.url}/admin/v1/clients/${client.id}/revoke-tokens`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } })
    assert.equal(answer.status, 200, answer.text)
    assert.equal(answer.headers.get('cache-control'), 'no-store')
    assert.deepEqual(answer.body, { client_id: client.id, grants_ended: 1 })
    assert.deepEqual([await active(observer, before.cc), await active(observer, before.user)], [false, false])
    const refresh = await request(`${server.url}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: before.refresh }, basic: client })
    assert.equal((refresh.body as { error: string }).error, 'invalid_grant')
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const after = await tokensOf(client)
    assert.equal(await active(observer, after.cc), true, 'the client itself keeps working')
    const missing = await request(`${server.url}/admin/v1/clients/nope/revoke-tokens`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } })
    assert.equal(missing.status, 404)
  })

  it('the CLI does the same and says how many grants ended', async () => {
    const client = await server.createClient({ scopes: ['api'] })
    const observer = await server.createClient({ scopes: ['api'] })
    const before = await tokensOf(client)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const run = await runCli(['clients', 'revoke-tokens', client.id, '--json', '--database', server.database.url], { env: { GATEHOUSE_DATA_DIR: server.database.dataDir } })
    assert.equal(run.code, 0, run.stderr)
    assert.deepEqual(run.json, { client_id: client.id, grants_ended: 1 })
    // The CLI is another process: the server learns of the change through the store (JWTs by the client's not-before, read per introspection).
    assert.equal(await active(observer, before.user), false)
    const unknown = await runCli(['clients', 'revoke-tokens', 'nope', '--json', '--database', server.database.url], { env: { GATEHOUSE_DATA_DIR: server.database.dataDir } })
    assert.equal(unknown.code, 1)
  })
})
