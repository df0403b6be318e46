import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request } from '../helpers/http.js'

describe('introspection (RFC 7662) and revocation (RFC 7009)', () => {
  let server: TestServer
  let resourceServer: { id: string; secret: string }
  let jwtClient: { id: string; secret: string }
  let opaqueClient: { id: string; secret: string }
  let userId: string

  before(async () => {
    server = await startTestServer()
    resourceServer = await server.createClient({ grantTypes: ['client_credentials'], scopes: [] })
    jwtClient = await server.createClient({ audience: 'https://api.example.com' })
    opaqueClient = await server.createClient({ tokenFormat: 'opaque' })
    userId = (await server.createUser('cat@example.com', 'cats password')).id
  })
  after(() => server.close())

  const token = async (as: { id: string; secret: string }, grant: 'client_credentials' | 'password' = 'client_credentials') => {
    const form: Record<string, string> =
      grant === 'password' ? { grant_type: 'password', username: 'cat@example.com', password: 'cats password', scope: 'api' } : { grant_type: 'client_credentials', scope: 'api' }
    const answer = await request(`${server.url}/oauth/token`, { form, basic: as })
    assert.equal(answer.status, 200, answer.text)
    return answer.body as { access_token: string; refresh_token?: string; expires_in: number }
  }
  const introspect = (tokenValue: string, as = resourceServer, extra: Record<string, string> = {}) =>
    request(`${server.url}/oauth/introspect`, { form: { token: tokenValue, ...extra }, basic: as })
  const revoke = (tokenValue: string, as: { id: string; secret: string }) => request(`${server.url}/oauth/revoke`, { form: { token: tokenValue }, basic: as })

  it("describes another client's active JWT access token", async () => {
    const issued = await token(jwtClient)
    const answer = await introspect(issued.access_token)
    assert.equal(answer.status, 200)
    assert.equal(answer.headers.get('cache-control'), 'no-store')
    const body = answer.body as Record<string, unknown>
    assert.deepEqual(Object.keys(body), ['active', 'scope', 'client_id', 'sub', 'aud', 'iss', 'exp', 'iat', 'jti', 'token_type'])
    assert.deepEqual({ ...body, exp: 0, iat: 0, jti: '' }, {
      active: true,
      scope: 'api',
      client_id: jwtClient.id,
      sub: jwtClient.id,
      aud: 'https://api.example.com',
      iss: server.url,
      exp: 0,
      iat: 0,
      jti: '',
      token_type: 'Bearer',
    })
    assert.equal((body.exp as number) - (body.iat as number), issued.expires_in)
  })

  it('describes an opaque access token and a refresh token', async () => {
    const issued = await token(opaqueClient, 'password')
    const access = (await introspect(issued.access_token)).body as Record<string, unknown>
    assert.deepEqual({ ...access, exp: 0, iat: 0 }, {
      active: true,
      scope: 'api',
      client_id: opaqueClient.id,
      sub: userId,
      aud: server.url,
      iss: server.url,
      exp: 0,
      iat: 0,
      token_type: 'Bearer',
    })
    const refresh = (await introspect(issued.refresh_token as string, resourceServer, { token_type_hint: 'refresh_token' })).body as Record<string, unknown>
    assert.deepEqual({ ...refresh, exp: 0, iat: 0 }, {
      active: true,
      scope: 'api',
      client_id: opaqueClient.id,
      sub: userId,
      iss: server.url,
      exp: 0,
      iat: 0,
    })
  })

  it('says only active:false for garbage, a forged JWT, and unknown tokens', async () => {
    const issued = await token(jwtClient)
    const [header, payload] = issued.access_token.split('.')
    const forged = `${header}.${payload}.${'A'.repeat(86)}`
    for (const value of ['garbage', forged, 'sk-' + '0'.repeat(32), 'rt-' + 'A'.repeat(51), 'a.b.c']) {
      const answer = await introspect(value)
      assert.deepEqual({ status: answer.status, body: answer.body }, { status: 200, body: { active: false } }, value)
    }
  })

  it('requires client authentication and a token parameter', async () => {
    const anonymous = await request(`${server.url}/oauth/introspect`, { form: { token: 'x' } })
    assert.deepEqual({ status: anonymous.status, body: anonymous.body }, {
      status: 401,
      body: { error: 'invalid_client', error_description: 'Client authentication is required.' },
    })
    const wrong = await introspect('x', { id: resourceServer.id, secret: 'nope' })
    assert.equal(wrong.status, 401)
    assert.equal(wrong.headers.get('www-authenticate'), 'Basic realm="gatehouse", charset="UTF-8"')
    const missing = await request(`${server.url}/oauth/introspect`, { form: {}, basic: resourceServer })
    assert.deepEqual({ status: missing.status, body: missing.body }, {
      status: 400,
      body: { error: 'invalid_request', error_description: 'The token parameter is required.' },
    })
  })

  it('revokes a JWT access token of the calling client', async () => {
    const issued = await token(jwtClient)
    const answer = await revoke(issued.access_token, jwtClient)
    assert.deepEqual({ status: answer.status, text: answer.text }, { status: 200, text: '' })
    assert.deepEqual((await introspect(issued.access_token)).body, { active: false })
  })

  it('revokes an opaque access token of the calling client', async () => {
    const issued = await token(opaqueClient)
    assert.equal((await revoke(issued.access_token, opaqueClient)).status, 200)
    assert.deepEqual((await introspect(issued.access_token)).body, { active: false })
  })

  it('revokes the whole family, and its opaque access tokens, when a refresh token is revoked', async () => {
    const issued = await token(opaqueClient, 'password')
    const refreshed = (await request(`${server.url}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: issued.refresh_token as string }, basic: opaqueClient })).body as {
      access_token: string
      refresh_token: string
    }
    assert.equal((await revoke(refreshed.refresh_token, opaqueClient)).status, 200)
    assert.deepEqual((await introspect(refreshed.refresh_token)).body, { active: false })
    assert.deepEqual((await introspect(refreshed.access_token)).body, { active: false })
    assert.deepEqual((await introspect(issued.access_token)).body, { active: false })
    const again = await request(`${server.url}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token }, basic: opaqueClient })
    assert.equal(again.status, 400)
  })

  it("answers 200 for another client's token and leaves it active (RFC 7009 §2.2)", async () => {
    const issued = await token(jwtClient, 'password')
    for (const value of [issued.access_token, issued.refresh_token as string]) {
      const answer = await revoke(value, opaqueClient)
      assert.deepEqual({ status: answer.status, text: answer.text }, { status: 200, text: '' })
      assert.equal(((await introspect(value)).body as { active: boolean }).active, true)
    }
  })

  it('answers 200 for an unknown token, and 401 without client authentication', async () => {
    assert.equal((await revoke('no-such-token', jwtClient)).status, 200)
    const anonymous = await request(`${server.url}/oauth/revoke`, { form: { token: 'x' } })
    assert.equal(anonymous.status, 401)
    assert.deepEqual(anonymous.body, { error: 'invalid_client', error_description: 'Client authentication is required.' })
  })
})
