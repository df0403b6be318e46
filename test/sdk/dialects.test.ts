import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ManualClock } from '../../src/core/clock.js'
import { createTokenClient, TokenClientError } from '../../src/sdk/client.js'
import { createVerifier } from '../../src/sdk/verify.js'
import { request } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { recordingFetch, startProtectedApps, type ProtectedApps } from './support.js'

const HOUR = 3_600_000

async function errorOf(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (caught: unknown) => caught,
  )
  assert.ok(error instanceof TokenClientError, `expected a TokenClientError, got ${String(error)}`)
  return { code: error.code, status: error.status, dialect: error.dialect, description: error.description, vendorCode: error.vendorCode }
}

/** The paths of the recorded requests, in order, e.g. ['/connect/token', '/connect/token']. */
function paths(recorder: ReturnType<typeof recordingFetch>, except = '/whoami'): string[] {
  return recorder.calls.map((call) => new URL(call.url).pathname).filter((path) => path !== except)
}

describe('each dialect’s token client against the real server', () => {
  let server: TestServer
  let jwtApps: ProtectedApps
  let opaqueApps: ProtectedApps

  before(async () => {
    server = await startTestServer()
    const resourceServer = await server.createClient({ name: 'resource server' })
    jwtApps = await startProtectedApps(createVerifier({ issuer: server.url, audience: server.url }), 'test')
    opaqueApps = await startProtectedApps(
      createVerifier({ issuer: server.url, audience: server.url, introspection: { clientId: resourceServer.id, clientSecret: resourceServer.secret } }),
      'test',
    )
  })
  after(async () => {
    await jwtApps.close()
    await opaqueApps.close()
    await server.close()
  })

  it('standard: client_credentials at /oauth/token, a Bearer call, and again after expiry', async () => {
    const client = await server.createClient({ grantTypes: ['client_credentials'], scopes: ['api', 'read'] })
    const clock = new ManualClock(Date.now())
    const recorder = recordingFetch()
    const tokens = createTokenClient({ issuer: server.url, dialect: 'standard', credentials: { clientId: client.id, clientSecret: client.secret }, scope: ['api'], clock, fetch: recorder.fetch })
    const first = await tokens.authFetch(`${jwtApps.fastify}/whoami`)
    assert.deepEqual({ status: first.status, body: await first.json() }, { status: 200, body: { format: 'jwt', subject: client.id, clientId: client.id, scopes: ['api'] } })
    clock.advance(HOUR)
    assert.equal((await tokens.authFetch(`${jwtApps.fastify}/whoami`)).status, 200)
    assert.deepEqual(paths(recorder), ['/oauth/token', '/oauth/token'])
  })

  it('identityserver: seed 001’s password grant at /connect/token, then the refresh token, then the password again once it is refused', async () => {
    const client = await server.createClient({ grantTypes: ['password', 'refresh_token'], scopes: ['openid', 'offline_access', 'email', 'profile', 'integrated-api'] })
    await server.createUser('ada@example.com', 'correct horse battery staple', 'Ada')
    const clock = new ManualClock(Date.now())
    const recorder = recordingFetch()
    const tokens = createTokenClient({
      issuer: server.url,
      dialect: 'identityserver',
      credentials: { clientId: client.id, clientSecret: client.secret, username: 'ada@example.com', password: 'correct horse battery staple' },
      scope: 'openid offline_access email profile integrated-api',
      clock,
      fetch: recorder.fetch,
    })
    const answer = await tokens.authFetch(`${jwtApps.express}/whoami`)
    assert.equal(answer.status, 200)
    const first = recorder.to('/connect/token')[0]
    const form = new URLSearchParams(first?.body)
    // client_secret_post by default, as in the seed's curl.
    assert.deepEqual(
      { authorization: first?.headers.get('authorization'), clientId: form.get('client_id'), grant: form.get('grant_type'), scope: form.get('scope') },
      { authorization: null, clientId: client.id, grant: 'password', scope: 'openid offline_access email profile integrated-api' },
    )
    const { refresh_token: refreshToken } = JSON.parse(first?.answer ?? '{}') as { refresh_token: string }

    clock.advance(HOUR)
    await tokens.getToken()
    // The user's session is revoked (RFC 7009 at /connect/revocation).
    const revocation = await request(`${server.url}/connect/revocation`, { form: { token: JSON.parse(recorder.to('/connect/token')[1]?.answer ?? '{}').refresh_token as string, client_id: client.id, client_secret: client.secret } })
    assert.equal(revocation.status, 200)
    clock.advance(HOUR)
    assert.equal((await tokens.authFetch(`${jwtApps.express}/whoami`)).status, 200)

    const grants = recorder.to('/connect/token').map((call) => [new URLSearchParams(call.body).get('grant_type'), call.status])
    assert.deepEqual(grants, [['password', 200], ['refresh_token', 200], ['refresh_token', 400], ['password', 200]])
    assert.notEqual(refreshToken, undefined)
  })

  it('identityserver: a wrong password is invalid_grant / invalid_username_or_password, always HTTP 400', async () => {
    const client = await server.createClient({ grantTypes: ['password'], scopes: ['openid'] })
    const tokens = createTokenClient({ issuer: server.url, dialect: 'identityserver', credentials: { clientId: client.id, clientSecret: client.secret, username: 'nobody@example.com', password: 'x' } })
    assert.deepEqual(await errorOf(tokens.getToken()), { code: 'invalid_grant', status: 400, dialect: 'identityserver', description: 'invalid_username_or_password', vendorCode: undefined })
    const wrongSecret = createTokenClient({ issuer: server.url, dialect: 'identityserver', credentials: { clientId: client.id, clientSecret: 'nope', username: 'a', password: 'b' } })
    const error = await errorOf(wrongSecret.getToken())
    assert.deepEqual({ code: error.code, status: error.status }, { code: 'invalid_client', status: 400 })
  })

  it('canary: an API key at /v2/oauth/request-tokens, then X-Refresh-Token at /v2/oauth/refresh-tokens', async () => {
    const created = await server.server.gatehouse.apiKeys.create({ name: 'sdk test', scopes: ['api'] })
    const clock = new ManualClock(Date.now())
    const recorder = recordingFetch()
    const tokens = createTokenClient({ issuer: server.url, dialect: 'canary', credentials: { apiKey: created.apiKey }, clock, fetch: recorder.fetch })
    const answer = await tokens.authFetch(`${jwtApps.fastify}/whoami`)
    assert.deepEqual({ status: answer.status, body: await answer.json() }, {
      status: 200,
      body: { format: 'jwt', subject: created.key.clientId, clientId: created.key.clientId, scopes: ['api'] },
    })
    const [first] = recorder.to('/v2/oauth/request-tokens')
    assert.equal(first?.headers.get('csc-api-key'), created.apiKey)
    const { refreshToken } = JSON.parse(first?.answer ?? '{}') as { refreshToken: string }

    clock.advance(HOUR)
    await tokens.getToken()
    assert.deepEqual(paths(recorder), ['/v2/oauth/request-tokens', '/v2/oauth/refresh-tokens'])
    const refresh = recorder.to('/v2/oauth/refresh-tokens')[0]
    assert.deepEqual({ header: refresh?.headers.get('x-refresh-token'), status: refresh?.status }, { header: refreshToken, status: 200 })
  })

  it('canary: an unknown key is a 401 with the server’s error code', async () => {
    const tokens = createTokenClient({ issuer: server.url, dialect: 'canary', credentials: { apiKey: 'ABCDEF:' + Buffer.alloc(32, 7).toString('base64') } })
    const error = await errorOf(tokens.getToken())
    assert.deepEqual({ code: error.code, status: error.status, dialect: error.dialect }, { code: 'invalid_client', status: 401, dialect: 'canary' })
  })

  it('wrapped: /v1/auth/token with an opaque token, re-authenticating after expiry (no refresh token)', async () => {
    const client = await server.createClient({ grantTypes: ['client_credentials'], scopes: ['api'], tokenFormat: 'opaque' })
    const clock = new ManualClock(Date.now())
    const recorder = recordingFetch()
    const tokens = createTokenClient({ issuer: server.url, dialect: 'wrapped', credentials: { clientId: client.id, clientSecret: client.secret }, clock, fetch: recorder.fetch })
    const token = await tokens.getToken()
    assert.match(token, /^sk-[0-9a-f]{32}$/)
    const answer = await tokens.authFetch(`${opaqueApps.express}/whoami`)
    assert.deepEqual({ status: answer.status, body: await answer.json() }, { status: 200, body: { format: 'opaque', subject: client.id, clientId: client.id, scopes: ['api'] } })
    clock.advance(HOUR)
    assert.notEqual(await tokens.getToken(), token)
    assert.deepEqual(paths(recorder), ['/v1/auth/token', '/v1/auth/token'])
  })

  it('wrapped: a wrong secret carries code_reason, the numeric code and the message', async () => {
    const client = await server.createClient({ grantTypes: ['client_credentials'] })
    const tokens = createTokenClient({ issuer: server.url, dialect: 'wrapped', credentials: { clientId: client.id, clientSecret: 'wrong' } })
    assert.deepEqual(await errorOf(tokens.getToken()), {
      code: 'invalid_client',
      status: 401,
      dialect: 'wrapped',
      description: 'Invalid client_id, client_secret, or session_key',
      vendorCode: '401021',
    })
  })
})
