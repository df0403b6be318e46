import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { digestSecret } from '../../src/core/credentials/secrets.js'
import { request } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/**
 * Opaque access tokens introspect from the issuing instance's memory (CachedAccessTokens), and
 * every path that makes a token inactive still does so for a cached one.
 */
describe('opaque token introspection from the cache', () => {
  let server: TestServer
  let resourceServer: { id: string; secret: string }
  let users = 0

  before(async () => {
    server = await startTestServer()
    resourceServer = await server.createClient()
  })
  after(() => server.close())

  const opaqueClient = () => server.createClient({ tokenFormat: 'opaque' })

  const issue = async (client: { id: string; secret: string }): Promise<string> => {
    const answer = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', scope: 'api' }, basic: client })
    assert.equal(answer.status, 200, answer.text)
    return (answer.body as { access_token: string }).access_token
  }

  const login = async (client: { id: string; secret: string }): Promise<{ access_token: string; refresh_token: string; userId: string }> => {
    const username = `cached${++users}@example.com`
    const user = await server.createUser(username, 'a long enough password')
    const answer = await request(`${server.url}/oauth/token`, { form: { grant_type: 'password', username, password: 'a long enough password', scope: 'api' }, basic: client })
    assert.equal(answer.status, 200, answer.text)
    return { ...(answer.body as { access_token: string; refresh_token: string }), userId: user.id }
  }

  const introspect = async (token: string): Promise<Record<string, unknown>> => {
    const answer = await request(`${server.url}/oauth/introspect`, { form: { token }, basic: resourceServer })
    assert.equal(answer.status, 200, answer.text)
    return answer.body as Record<string, unknown>
  }

  const rowOf = (token: string) => server.server.gatehouse.store.db.selectFrom('opaque_tokens').selectAll().where('digest', '=', digestSecret(token))

  it('answers an issued token without reading its row', async () => {
    const client = await opaqueClient()
    const token = await issue(client)
    assert.ok(await rowOf(token).executeTakeFirst(), 'the token was committed before it was answered')
    // Take the row away: only the cache can still know the token.
    await server.server.gatehouse.store.db.deleteFrom('opaque_tokens').where('digest', '=', digestSecret(token)).execute()
    const answer = await introspect(token)
    assert.deepEqual({ ...answer, exp: typeof answer.exp, iat: typeof answer.iat }, {
      active: true,
      scope: 'api',
      client_id: client.id,
      sub: client.id,
      aud: server.url,
      iss: server.url,
      exp: 'number',
      iat: 'number',
      token_type: 'Bearer',
    })
  })

  it('a token revoked by its client (RFC 7009) is inactive', async () => {
    const client = await opaqueClient()
    const token = await issue(client)
    assert.equal((await introspect(token)).active, true)
    const revoked = await request(`${server.url}/oauth/revoke`, { form: { token }, basic: client })
    assert.equal(revoked.status, 200)
    assert.deepEqual(await introspect(token), { active: false })
    assert.notEqual((await rowOf(token).executeTakeFirst())?.revoked_at, null, 'and revoked in the store')
  })

  it("another client's revocation of the token changes nothing (RFC 7009 §2.1)", async () => {
    const client = await opaqueClient()
    const token = await issue(client)
    const attacker = await opaqueClient()
    const revoked = await request(`${server.url}/oauth/revoke`, { form: { token }, basic: attacker })
    assert.equal(revoked.status, 200)
    assert.equal((await introspect(token)).active, true)
  })

  it('an access token of an ended grant (its refresh token revoked) is inactive', async () => {
    const client = await opaqueClient()
    const tokens = await login(client)
    assert.equal((await introspect(tokens.access_token)).active, true)
    assert.equal((await request(`${server.url}/oauth/revoke`, { form: { token: tokens.refresh_token }, basic: client })).status, 200)
    assert.deepEqual(await introspect(tokens.access_token), { active: false })
  })

  it("a disabled user's access token is inactive", async () => {
    const client = await opaqueClient()
    const tokens = await login(client)
    assert.equal((await introspect(tokens.access_token)).active, true)
    await server.server.gatehouse.users.setDisabled(tokens.userId, true)
    assert.deepEqual(await introspect(tokens.access_token), { active: false })
  })

  it('a secret rotated with "revoke tokens" makes earlier tokens inactive (tokens-not-before)', async () => {
    const client = await opaqueClient()
    const token = await issue(client)
    assert.equal((await introspect(token)).active, true)
    await server.server.gatehouse.clients.rotateSecret(client.id, { revokeTokens: true })
    assert.deepEqual(await introspect(token), { active: false })
  })

  it('clients revoke-tokens makes earlier tokens inactive', async () => {
    const client = await opaqueClient()
    const token = await issue(client)
    await server.server.gatehouse.clients.revokeTokens(client.id)
    assert.deepEqual(await introspect(token), { active: false })
  })

  it("a deleted client's tokens are inactive", async () => {
    const client = await opaqueClient()
    const token = await issue(client)
    await server.server.gatehouse.clients.delete(client.id)
    assert.deepEqual(await introspect(token), { active: false })
  })
})
