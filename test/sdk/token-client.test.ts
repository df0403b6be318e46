import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ManualClock } from '../../src/core/clock.js'
import { createTokenClient, TokenClientError } from '../../src/sdk/client.js'
import { createVerifier } from '../../src/sdk/verify.js'
import { basicHeader, request } from '../helpers/http.js'
import { freePort, startTestServer, type TestServer } from '../helpers/server.js'
import { grantTypes, recordingFetch, startProtectedApps, type ProtectedApps } from './support.js'

const HOUR = 3_600_000

/** What a rejected promise rejected with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (error: unknown) => error,
  )
}

function errorFields(error: unknown): Record<string, unknown> {
  assert.ok(error instanceof TokenClientError, `expected a TokenClientError, got ${String(error)}`)
  return { code: error.code, status: error.status, dialect: error.dialect, description: error.description, vendorCode: error.vendorCode }
}

describe('the token client against a real Gatehouse (standard dialect)', () => {
  let server: TestServer
  let apps: ProtectedApps
  let opaqueApps: ProtectedApps
  let resourceServer: { id: string; secret: string }

  before(async () => {
    server = await startTestServer()
    resourceServer = await server.createClient({ name: 'resource server' })
    apps = await startProtectedApps(createVerifier({ issuer: server.url, audience: server.url }), 'test')
    // cacheTtlSeconds 0: every request introspects, so a revocation shows at once.
    const opaqueVerifier = createVerifier({
      issuer: server.url,
      audience: server.url,
      introspection: { clientId: resourceServer.id, clientSecret: resourceServer.secret, cacheTtlSeconds: 0 },
    })
    opaqueApps = await startProtectedApps(opaqueVerifier, 'test')
  })
  after(async () => {
    await apps.close()
    await opaqueApps.close()
    await server.close()
  })

  it('lets 100 concurrent authFetch calls on an expired token cause exactly one token request', async () => {
    const client = await server.createClient({ grantTypes: ['client_credentials'] })
    const clock = new ManualClock(Date.now())
    const recorder = recordingFetch()
    const tokens = createTokenClient({ issuer: server.url, dialect: 'standard', credentials: { clientId: client.id, clientSecret: client.secret }, clock, fetch: recorder.fetch })
    const first = await tokens.getToken()
    clock.advance(HOUR + 1000)

    const answers = await Promise.all(Array.from({ length: 100 }, () => tokens.authFetch(`${apps.fastify}/whoami`)))

    assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([200]))
    assert.deepEqual(grantTypes(recorder, '/oauth/token'), ['client_credentials', 'client_credentials'])
    const second = await tokens.getToken()
    assert.notEqual(second, first)
    assert.deepEqual(new Set(recorder.to('/whoami').map((call) => call.headers.get('authorization'))), new Set([`Bearer ${second}`]))
  })

  it('answers 100 concurrent 401s (a revoked token) with one new token and one retry each', async () => {
    const client = await server.createClient({ grantTypes: ['client_credentials'], tokenFormat: 'opaque' })
    const recorder = recordingFetch()
    const tokens = createTokenClient({ issuer: server.url, dialect: 'standard', credentials: { clientId: client.id, clientSecret: client.secret }, fetch: recorder.fetch })
    const revoked = await tokens.getToken()
    const revocation = await request(`${server.url}/oauth/revoke`, { form: { token: revoked }, basic: client })
    assert.equal(revocation.status, 200)

    const answers = await Promise.all(Array.from({ length: 100 }, () => tokens.authFetch(`${opaqueApps.express}/whoami`)))

    assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([200]))
    assert.deepEqual(grantTypes(recorder, '/oauth/token'), ['client_credentials', 'client_credentials'])
    const fresh = await tokens.getToken()
    const sent = recorder.to('/whoami').map((call) => call.headers.get('authorization'))
    assert.deepEqual({ calls: sent.length, withRevoked: sent.filter((h) => h === `Bearer ${revoked}`).length, withFresh: sent.filter((h) => h === `Bearer ${fresh}`).length }, { calls: 200, withRevoked: 100, withFresh: 100 })
  })

  it('refreshes ahead of expiry: the current token is served while the next one is fetched', async () => {
    const client = await server.createClient({ grantTypes: ['password', 'refresh_token'], scopes: ['api'] })
    await server.createUser('ahead@example.com', 'correct horse')
    const clock = new ManualClock(Date.now())
    const recorder = recordingFetch()
    const tokens = createTokenClient({
      issuer: server.url,
      dialect: 'standard',
      credentials: { clientId: client.id, clientSecret: client.secret, username: 'ahead@example.com', password: 'correct horse' },
      scope: ['api'],
      refreshAheadSeconds: 60,
      clock,
      fetch: recorder.fetch,
    })
    const first = await tokens.getToken()
    clock.advance(HOUR - 61_000)
    assert.equal(await tokens.getToken(), first)
    assert.deepEqual(grantTypes(recorder, '/oauth/token'), ['password'], 'nothing is fetched before the refresh-ahead window')

    clock.advance(2_000)
    assert.equal(await tokens.getToken(), first, 'inside the window the caller still gets the valid token at once')
    const second = await tokens.renew() // joins the refresh getToken started
    assert.notEqual(second, first)
    assert.equal(await tokens.getToken(), second)
    assert.deepEqual(grantTypes(recorder, '/oauth/token'), ['password', 'refresh_token'])

    // The refresh token rotated (RFC 9700 §4.14): the client must use the new one next time.
    clock.advance(HOUR)
    const third = await tokens.getToken()
    assert.notEqual(third, second)
    assert.deepEqual(grantTypes(recorder, '/oauth/token'), ['password', 'refresh_token', 'refresh_token'])
    assert.deepEqual(new URLSearchParams(recorder.to('/oauth/token')[0]?.body).get('scope'), 'api')
  })

  it('authenticates again when the server refuses the refresh token', async () => {
    const client = await server.createClient({ grantTypes: ['password', 'refresh_token'], scopes: ['api'] })
    await server.createUser('refused@example.com', 'correct horse')
    const clock = new ManualClock(Date.now())
    const recorder = recordingFetch()
    const tokens = createTokenClient({
      issuer: server.url,
      dialect: 'standard',
      credentials: { clientId: client.id, clientSecret: client.secret, username: 'refused@example.com', password: 'correct horse' },
      clock,
      fetch: recorder.fetch,
    })
    await tokens.getToken()
    // The user's session ends (RFC 7009 revocation of the refresh token the client holds).
    const { refresh_token: refreshToken } = JSON.parse(recorder.to('/oauth/token')[0]?.answer ?? '{}') as { refresh_token: string }
    assert.equal((await request(`${server.url}/oauth/revoke`, { form: { token: refreshToken }, basic: client })).status, 200)
    clock.advance(HOUR + 1000)

    const token = await tokens.getToken()

    assert.deepEqual(grantTypes(recorder, '/oauth/token'), ['password', 'refresh_token', 'password'])
    assert.deepEqual(JSON.parse(recorder.to('/oauth/token')[1]?.answer ?? '{}'), { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked.' })
    const introspection = await request(`${server.url}/oauth/introspect`, { form: { token }, basic: resourceServer })
    assert.equal((introspection.body as { active: boolean }).active, true)
  })

  it('authenticates again when a client_credentials token expires (there is no refresh token)', async () => {
    const client = await server.createClient({ grantTypes: ['client_credentials'] })
    const clock = new ManualClock(Date.now())
    const recorder = recordingFetch()
    const tokens = createTokenClient({ issuer: server.url, dialect: 'standard', credentials: { clientId: client.id, clientSecret: client.secret }, clock, fetch: recorder.fetch })
    await tokens.getToken()
    clock.advance(HOUR)
    await tokens.getToken()
    assert.deepEqual(grantTypes(recorder, '/oauth/token'), ['client_credentials', 'client_credentials'])
  })

  it('authenticates with HTTP Basic by default and with body parameters when asked', async () => {
    const client = await server.createClient({ grantTypes: ['client_credentials'] })
    for (const clientAuthentication of ['client_secret_basic', 'client_secret_post'] as const) {
      const recorder = recordingFetch()
      const tokens = createTokenClient({ tokenUrl: `${server.url}/oauth/token`, dialect: 'standard', credentials: { clientId: client.id, clientSecret: client.secret }, clientAuthentication, fetch: recorder.fetch })
      await tokens.getToken()
      const [call] = recorder.to('/oauth/token')
      const body = new URLSearchParams(call?.body)
      assert.deepEqual(
        { authorization: call?.headers.get('authorization'), clientId: body.get('client_id') },
        clientAuthentication === 'client_secret_basic' ? { authorization: basicHeader(client.id, client.secret), clientId: null } : { authorization: null, clientId: client.id },
      )
    }
  })

  it('rejects with the server’s error code, status and dialect', async () => {
    const client = await server.createClient({ grantTypes: ['client_credentials'] })
    const wrongSecret = createTokenClient({ issuer: server.url, dialect: 'standard', credentials: { clientId: client.id, clientSecret: 'not-the-secret' } })
    assert.deepEqual(errorFields(await rejection(wrongSecret.getToken())), {
      code: 'invalid_client',
      status: 401,
      dialect: 'standard',
      description: 'Client authentication failed.',
      vendorCode: undefined,
    })
    const wrongGrant = createTokenClient({ issuer: server.url, dialect: 'standard', credentials: { clientId: client.id, clientSecret: client.secret, username: 'a', password: 'b' } })
    assert.deepEqual(errorFields(await rejection(wrongGrant.getToken())), {
      code: 'unauthorized_client',
      status: 400,
      dialect: 'standard',
      description: 'This client may not use the password grant.',
      vendorCode: undefined,
    })
  })

  it('rejects with request_failed when the server cannot be reached', async () => {
    const tokens = createTokenClient({ issuer: `http://127.0.0.1:${await freePort()}`, dialect: 'standard', credentials: { clientId: 'a', clientSecret: 'b' } })
    assert.deepEqual(errorFields(await rejection(tokens.getToken())), {
      code: 'request_failed',
      status: undefined,
      dialect: 'standard',
      description: 'the token endpoint could not be reached',
      vendorCode: undefined,
    })
  })
})

describe('the token client against a scripted token endpoint', () => {
  /** A fetch that answers token requests from a script, one answer per call. */
  function scriptedFetch(answers: { status: number; body: unknown }[]): { fetch: typeof globalThis.fetch; bodies: string[] } {
    const bodies: string[] = []
    return {
      bodies,
      fetch: async (_input, init) => {
        bodies.push(typeof init?.body === 'string' ? init.body : '')
        const answer = answers.shift()
        if (!answer) throw new TypeError('fetch failed')
        return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json' } })
      },
    }
  }

  it('keeps serving a still-valid token when a refresh ahead of expiry fails, and throws once it has expired', async () => {
    const clock = new ManualClock()
    const script = scriptedFetch([
      { status: 200, body: { access_token: 'T1', token_type: 'Bearer', expires_in: 100 } },
      { status: 503, body: { error: 'temporarily_unavailable', error_description: 'The service is busy.' } },
    ])
    const tokens = createTokenClient({ issuer: 'https://auth.test', dialect: 'standard', credentials: { clientId: 'c', clientSecret: 's' }, clock, fetch: script.fetch })
    assert.equal(await tokens.getToken(), 'T1')
    clock.advance(60_000) // refresh ahead at half the lifetime, as 60 s is more than half of 100 s
    assert.equal(await tokens.getToken(), 'T1')
    // renew() joins the refresh getToken started in the background: one request, one 503.
    assert.deepEqual(errorFields(await rejection(tokens.renew())), {
      code: 'temporarily_unavailable',
      status: 503,
      dialect: 'standard',
      description: 'The service is busy.',
      vendorCode: undefined,
    })
    assert.equal(script.bodies.length, 2)
    clock.advance(41_000)
    assert.deepEqual(errorFields(await rejection(tokens.getToken())), {
      code: 'request_failed',
      status: undefined,
      dialect: 'standard',
      description: 'the token endpoint could not be reached',
      vendorCode: undefined,
    })
  })

  it('reads the expiry from the JWT when the answer has no expires_in', async () => {
    const clock = new ManualClock()
    const exp = clock.now() / 1000 + 300
    const jwt = `${btoa('{"alg":"ES256"}')}.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.sig`
    const script = scriptedFetch([
      { status: 200, body: { accessToken: jwt, refreshToken: 'rt-1' } },
      { status: 200, body: { accessToken: 'second', refreshToken: 'rt-2', expiresIn: 300 } },
    ])
    const tokens = createTokenClient({ issuer: 'https://auth.test', dialect: 'canary', credentials: { apiKey: 'ABC123:c2VjcmV0' }, clock, fetch: script.fetch })
    assert.equal(await tokens.getToken(), jwt)
    clock.advance(239_000)
    assert.equal(await tokens.getToken(), jwt)
    clock.advance(62_000)
    assert.equal(await tokens.getToken(), 'second')
  })

  it('refuses a 200 answer without an access token as invalid_response', async () => {
    const script = scriptedFetch([{ status: 200, body: { token_type: 'Bearer' } }])
    const tokens = createTokenClient({ issuer: 'https://auth.test', dialect: 'standard', credentials: { clientId: 'c', clientSecret: 's' }, fetch: script.fetch })
    assert.deepEqual(errorFields(await rejection(tokens.getToken())), {
      code: 'invalid_response',
      status: 200,
      dialect: 'standard',
      description: 'no access_token in the answer',
      vendorCode: undefined,
    })
  })

  it('reads the wrapped dialect’s error object', async () => {
    const script = scriptedFetch([
      { status: 401, body: { error: { code: 401021, code_reason: 'invalid_client', message: 'Invalid client_id, client_secret, or session_key' } } },
    ])
    const tokens = createTokenClient({ issuer: 'https://auth.test', dialect: 'wrapped', credentials: { clientId: 'c', clientSecret: 's' }, fetch: script.fetch })
    assert.deepEqual(errorFields(await rejection(tokens.getToken())), {
      code: 'invalid_client',
      status: 401,
      dialect: 'wrapped',
      description: 'Invalid client_id, client_secret, or session_key',
      vendorCode: '401021',
    })
  })
})
