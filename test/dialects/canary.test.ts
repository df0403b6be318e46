import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import axios from 'axios'
import { ManualClock } from '../../src/core/clock.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { jwtPayload, request, type HttpAnswer } from '../helpers/http.js'
import { runCli } from '../helpers/processes.js'
import { TEST_SECRET } from '../helpers/server.js'
import { introspect, isInt32, runCurl, verifyWithJwks } from './support.js'

const KEY_REFUSED = { error: 'invalid_client', error_description: 'The API key is invalid, revoked or expired.' }
const REFRESH_REFUSED = { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked.' }
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

/** The seed's curl, verbatim but for the host and the key. */
const SEED_CURL = `curl \\
  -X POST "https://rest.eus.canaryspeech.com/v2/oauth/request-tokens" \\
  -H "Csc-Api-Key: 571CCF:SvJtIepDIolHFZMby7OuGPd9kYwJaWJ18Bp5/Q+6yiFn0FR1"`

type Tokens = { accessToken: string; refreshToken: string; expiresIn: number }

function answerOf(answer: HttpAnswer): { status: number; body: unknown; cache: string | null; pragma: string | null } {
  return { status: answer.status, body: answer.body, cache: answer.headers.get('cache-control'), pragma: answer.headers.get('pragma') }
}

const refused = (status: number, body: unknown): ReturnType<typeof answerOf> => ({ status, body, cache: 'no-store', pragma: 'no-cache' })

describe('Canary dialect (seed 000)', () => {
  let server: TestServer
  let key: string
  let keyId: string
  let ownerClientId: string
  let auditor: { id: string; secret: string }

  const post = (path: string, headers: Record<string, string>, body?: string, contentType?: string): Promise<HttpAnswer> =>
    request(`${server.url}${path}`, {
      method: 'POST',
      headers: { ...headers, ...(contentType ? { 'content-type': contentType } : {}) },
      ...(body !== undefined ? { raw: { contentType: contentType ?? 'application/json', body } } : {}),
    })

  /** Checks a v2 token answer field by field, and the access token against the JWKS alone. */
  async function checkV2Answer(body: unknown): Promise<Tokens> {
    const tokens = body as Tokens
    assert.deepEqual(Object.keys(tokens), ['accessToken', 'refreshToken', 'expiresIn'])
    assert.equal(typeof tokens.accessToken, 'string')
    assert.match(tokens.refreshToken, /^rt-[A-Za-z0-9_-]{51}$/)
    assert.ok(isInt32(tokens.expiresIn), 'expiresIn is an int32')
    const claims = await verifyWithJwks(server.url, tokens.accessToken)
    // "The access token is a JWT whose exp tells its expiry."
    assert.equal((claims.exp as number) - (claims.iat as number), tokens.expiresIn)
    assert.equal(claims.client_id, ownerClientId)
    return tokens
  }

  before(async () => {
    server = await startTestServer()
    const created = await server.server.gatehouse.apiKeys.create({ name: 'seed 000', scopes: ['api'] })
    key = created.apiKey
    keyId = created.key.id
    ownerClientId = created.key.clientId
    auditor = await server.createClient()
    await server.createUser('carol@example.com', 'carols password', 'Carol')
  })
  after(() => server.close())

  describe('replays the seed examples', () => {
    it('answers the seed curl with accessToken, refreshToken and expiresIn', async () => {
      const command = SEED_CURL.replace('https://rest.eus.canaryspeech.com', server.url).replace(/571CCF:[^"]+/, key)
      const answer = await runCurl(command)
      assert.equal(answer.status, 200, answer.text)
      assert.equal(answer.headers['cache-control'], 'no-store')
      assert.equal(answer.headers['pragma'], 'no-cache')
      assert.match(answer.headers['content-type'] ?? '', /^application\/json/)
      await checkV2Answer(answer.body)
    })

    it('answers the seed fetch snippet', async () => {
      const url = `${server.url}/v2/oauth/request-tokens`
      const headers = { 'Csc-Api-Key': key }
      const json = await fetch(url, { method: 'POST', headers }).then((response) => {
        if (!response.ok) throw new Error(String(response.status))
        return response.json()
      })
      const { accessToken, refreshToken, expiresIn } = await checkV2Answer(json)
      assert.ok(accessToken && refreshToken && expiresIn)
    })

    it('answers the seed https.request snippet (node:http against the test server)', async () => {
      const { hostname, port } = new URL(server.url)
      const headers = { 'Csc-Api-Key': key }
      const options = { hostname, port: Number(port), path: '/v2/oauth/request-tokens', method: 'POST', headers }
      const json = await new Promise<unknown>((resolve, reject) => {
        const req = http.request(options, (response) => {
          if (response.statusCode !== 200) return reject(new Error(String(response.statusCode)))
          let data = ''
          response.on('data', (d: Buffer) => (data += d.toString()))
          response.on('end', () => resolve(JSON.parse(data)))
        })
        req.on('error', reject)
        req.end()
      })
      await checkV2Answer(json)
    })

    it('answers the seed axios snippet (axios.post(url, null, { headers }))', async () => {
      const url = `${server.url}/v2/oauth/request-tokens`
      const headers = { 'Csc-Api-Key': key }
      const response = await axios.post(url, null, { headers })
      assert.equal(response.status, 200)
      await checkV2Answer(response.data)
    })
  })

  describe('/v2/oauth/refresh-tokens', () => {
    it('rotates the refresh token (X-Refresh-Token) and answers in the same shape', async () => {
      const first = (await post('/v2/oauth/request-tokens', { 'Csc-Api-Key': key })).body as Tokens
      const answer = await post('/v2/oauth/refresh-tokens', { 'X-Refresh-Token': first.refreshToken })
      assert.equal(answer.status, 200, answer.text)
      const second = await checkV2Answer(answer.body)
      assert.notEqual(second.refreshToken, first.refreshToken)
      assert.equal(answer.headers.get('cache-control'), 'no-store')
    })

    it('also reads Csc-Refresh-Token, and an empty JSON body or null is fine', async () => {
      const first = (await post('/v2/oauth/request-tokens', { 'Csc-Api-Key': key }, '', 'application/json')).body as Tokens
      const answer = await post('/v2/oauth/refresh-tokens', { 'Csc-Refresh-Token': first.refreshToken }, 'null')
      assert.equal(answer.status, 200, answer.text)
      await checkV2Answer(answer.body)
    })

    it('refuses a rotated refresh token and revokes its family (RFC 9700 §4.14.2)', async () => {
      const first = (await post('/v2/oauth/request-tokens', { 'Csc-Api-Key': key })).body as Tokens
      const second = (await post('/v2/oauth/refresh-tokens', { 'X-Refresh-Token': first.refreshToken })).body as Tokens
      assert.deepEqual(answerOf(await post('/v2/oauth/refresh-tokens', { 'X-Refresh-Token': first.refreshToken })), refused(401, REFRESH_REFUSED))
      // The family is gone: the legitimate successor no longer works either.
      assert.deepEqual(answerOf(await post('/v2/oauth/refresh-tokens', { 'X-Refresh-Token': second.refreshToken })), refused(401, REFRESH_REFUSED))
    })
  })

  describe('/v3/auth/tokens/get and /v3/auth/tokens/refresh', () => {
    it('key mode: a body of {} gives the tokens and identityIds', async () => {
      const answer = await post('/v3/auth/tokens/get', { 'Csc-Api-Key': key }, '{}')
      assert.equal(answer.status, 200, answer.text)
      const body = answer.body as { accessToken: string; refreshToken: string; identityIds: Record<string, string> }
      assert.deepEqual(Object.keys(body), ['accessToken', 'refreshToken', 'identityIds'])
      assert.deepEqual(body.identityIds, { clientId: ownerClientId, projectId: keyId, subjectId: ownerClientId })
      assert.equal((await verifyWithJwks(server.url, body.accessToken)).sub, ownerClientId)
      assert.deepEqual({ cache: answer.headers.get('cache-control'), pragma: answer.headers.get('pragma') }, { cache: 'no-store', pragma: 'no-cache' })
    })

    it('user mode: logs the user in with the key\'s authority', async () => {
      const login = { userPool: 'default', projectId: 'project-7', username: 'carol@example.com', password: 'carols password' }
      const answer = await post('/v3/auth/tokens/get', { 'Csc-Api-Key': key }, JSON.stringify(login))
      assert.equal(answer.status, 200, answer.text)
      const body = answer.body as { accessToken: string; refreshToken: string; identityIds: Record<string, string> }
      const claims = await verifyWithJwks(server.url, body.accessToken)
      assert.deepEqual(body.identityIds, { clientId: ownerClientId, projectId: 'project-7', subjectId: claims.sub })
      assert.notEqual(claims.sub, ownerClientId)
      const looked = await introspect(server.url, auditor, body.accessToken)
      assert.equal(looked.active, true)
      assert.equal(looked.sub, claims.sub)
    })

    it('refreshes with Csc-Refresh-Token, rotating, and detects reuse', async () => {
      const first = (await post('/v3/auth/tokens/get', { 'Csc-Api-Key': key }, '{}')).body as Tokens
      const answer = await post('/v3/auth/tokens/refresh', { 'Csc-Refresh-Token': first.refreshToken })
      assert.equal(answer.status, 200, answer.text)
      const second = answer.body as Tokens
      assert.deepEqual(Object.keys(second), ['accessToken', 'refreshToken'])
      assert.notEqual(second.refreshToken, first.refreshToken)
      await verifyWithJwks(server.url, second.accessToken)
      assert.deepEqual(answerOf(await post('/v3/auth/tokens/refresh', { 'Csc-Refresh-Token': first.refreshToken })), refused(401, REFRESH_REFUSED))
      assert.deepEqual(answerOf(await post('/v3/auth/tokens/refresh', { 'Csc-Refresh-Token': second.refreshToken })), refused(401, REFRESH_REFUSED))
    })
  })

  describe('errors: 400 for a missing or malformed header or body, 401 for a refused key or token', () => {
    const badRequest = (description: string): ReturnType<typeof answerOf> => refused(400, { error: 'invalid_request', error_description: description })

    it('refuses a request without Csc-Api-Key on both key routes', async () => {
      for (const path of ['/v2/oauth/request-tokens', '/v3/auth/tokens/get']) {
        assert.deepEqual(answerOf(await post(path, {})), badRequest('The Csc-Api-Key header is required.'))
      }
    })

    it('refuses a malformed key', async () => {
      // A key id must be six upper-case hex digits: a lower-case or non-hex one is malformed, whatever the id drawn.
      for (const bad of ['571CCF', 'abcdef:secret', `${keyId.slice(0, 5)}g:${key.split(':')[1]}`, `${keyId.slice(0, 5)}:${key.split(':')[1]}`, `${key}x`]) {
        assert.deepEqual(answerOf(await post('/v2/oauth/request-tokens', { 'Csc-Api-Key': bad })), badRequest('The API key is malformed: expected KEYID:SECRET.'), bad)
      }
    })

    it('answers an unknown key id and a wrong secret alike', async () => {
      const otherId = keyId === '000000' ? '000001' : '000000'
      const wrongSecret = `${keyId}:${Buffer.alloc(32, 7).toString('base64')}`
      for (const bad of [`${otherId}:${key.split(':')[1]}`, wrongSecret]) {
        assert.deepEqual(answerOf(await post('/v2/oauth/request-tokens', { 'Csc-Api-Key': bad })), refused(401, KEY_REFUSED))
        assert.deepEqual(answerOf(await post('/v3/auth/tokens/get', { 'Csc-Api-Key': bad }, '{}')), refused(401, KEY_REFUSED))
      }
      assert.ok(!server.logs.text.includes(wrongSecret.split(':')[1] as string), 'the presented secret is not logged')
    })

    it('refuses a revoked key, and the refresh tokens it gave out die with it', async () => {
      const created = await server.server.gatehouse.apiKeys.create({ name: 'to revoke', scopes: ['api'] })
      const tokens = (await post('/v2/oauth/request-tokens', { 'Csc-Api-Key': created.apiKey })).body as Tokens
      assert.equal(await server.server.gatehouse.apiKeys.revoke(created.key.id), true)
      assert.deepEqual(answerOf(await post('/v2/oauth/request-tokens', { 'Csc-Api-Key': created.apiKey })), refused(401, KEY_REFUSED))
      assert.deepEqual(answerOf(await post('/v2/oauth/refresh-tokens', { 'X-Refresh-Token': tokens.refreshToken })), refused(401, REFRESH_REFUSED))
      assert.equal((await introspect(server.url, auditor, tokens.refreshToken)).active, false)
    })

    it('refuses a missing or malformed refresh token header, and an unknown token', async () => {
      for (const path of ['/v2/oauth/refresh-tokens', '/v3/auth/tokens/refresh']) {
        assert.deepEqual(answerOf(await post(path, {})), badRequest('The X-Refresh-Token (or Csc-Refresh-Token) header is required.'))
        assert.deepEqual(answerOf(await post(path, { 'X-Refresh-Token': 'not-a-token' })), badRequest('The refresh token is malformed.'))
        assert.deepEqual(answerOf(await post(path, { 'X-Refresh-Token': `rt-${'A'.repeat(51)}` })), refused(401, REFRESH_REFUSED))
      }
    })

    it('refuses two refresh headers that disagree', async () => {
      const answer = await post('/v2/oauth/refresh-tokens', { 'X-Refresh-Token': `rt-${'A'.repeat(51)}`, 'Csc-Refresh-Token': `rt-${'B'.repeat(51)}` })
      assert.deepEqual(answerOf(answer), badRequest('Send the X-Refresh-Token or Csc-Refresh-Token header once.'))
    })

    it('refuses a /v3 body that is not a JSON object, or a half login', async () => {
      const get = (body: string): Promise<HttpAnswer> => post('/v3/auth/tokens/get', { 'Csc-Api-Key': key }, body)
      assert.deepEqual(answerOf(await get('{not json')), badRequest('The request body must be JSON.'))
      assert.deepEqual(answerOf(await get('[1,2]')), badRequest('The request body must be a JSON object.'))
      assert.deepEqual(answerOf(await get('{"username":7}')), badRequest('username must be a string.'))
      assert.deepEqual(answerOf(await get('{"username":"carol@example.com"}')), badRequest('A user login needs both username and password.'))
    })

    it('refuses a wrong user password with 401 and IdentityServer-like wording', async () => {
      const answer = await post('/v3/auth/tokens/get', { 'Csc-Api-Key': key }, JSON.stringify({ username: 'carol@example.com', password: 'wrong password' }))
      assert.deepEqual(answerOf(answer), refused(401, { error: 'invalid_grant', error_description: 'invalid_username_or_password' }))
    })

    it('refuses the key of a client that no longer allows the api_key grant', async () => {
      const created = await server.server.gatehouse.apiKeys.create({ name: 'switched off', scopes: ['api'] })
      await server.server.gatehouse.clients.update(created.key.clientId, { grantTypes: ['refresh_token'] })
      const answer = await post('/v2/oauth/request-tokens', { 'Csc-Api-Key': created.apiKey })
      assert.deepEqual(answerOf(answer), refused(401, { error: 'unauthorized_client', error_description: 'This client may not use the api_key grant.' }))
    })
  })

  describe('across dialects', () => {
    it('its refresh token is refused when another client presents it at /connect/token and /oauth/token', async () => {
      const tokens = (await post('/v2/oauth/request-tokens', { 'Csc-Api-Key': key })).body as Tokens
      const other = await server.createClient()
      const viaIdentityServer = await request(`${server.url}/connect/token`, {
        form: { grant_type: 'refresh_token', refresh_token: tokens.refreshToken, client_id: other.id, client_secret: other.secret },
      })
      assert.deepEqual({ status: viaIdentityServer.status, body: viaIdentityServer.body }, { status: 400, body: REFRESH_REFUSED })
      const viaStandard = await request(`${server.url}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, basic: other })
      assert.deepEqual({ status: viaStandard.status, body: viaStandard.body }, { status: 400, body: REFRESH_REFUSED })
      // Refused presentations by another client do not burn the token for its owner.
      assert.equal((await post('/v2/oauth/refresh-tokens', { 'X-Refresh-Token': tokens.refreshToken })).status, 200)
    })

    it('refuses a refresh token that a client-authenticated grant issued (it is not the key\'s)', async () => {
      const client = await server.createClient()
      const login = await request(`${server.url}/oauth/token`, {
        form: { grant_type: 'password', username: 'carol@example.com', password: 'carols password' },
        basic: client,
      })
      const refreshToken = (login.body as { refresh_token: string }).refresh_token
      assert.deepEqual(answerOf(await post('/v2/oauth/refresh-tokens', { 'X-Refresh-Token': refreshToken })), refused(401, REFRESH_REFUSED))
    })

    it('its access token is active at /oauth/introspect', async () => {
      const tokens = (await post('/v2/oauth/request-tokens', { 'Csc-Api-Key': key })).body as Tokens
      const looked = await introspect(server.url, auditor, tokens.accessToken)
      assert.deepEqual(
        { active: looked.active, client_id: looked.client_id, sub: looked.sub, scope: looked.scope, token_type: looked.token_type },
        { active: true, client_id: ownerClientId, sub: ownerClientId, scope: 'api', token_type: 'Bearer' },
      )
      assert.equal(jwtPayload(tokens.accessToken).scope, 'api')
    })
  })
})

describe('Canary dialect: key expiry', () => {
  it('refuses an expired key with the same answer as an unknown one', async () => {
    const clock = new ManualClock(Date.now())
    const server = await startTestServer({ clock })
    try {
      const created = await server.server.gatehouse.apiKeys.create({ name: 'short', scopes: ['api'], expiresIn: 60 })
      const ask = (): Promise<HttpAnswer> => request(`${server.url}/v2/oauth/request-tokens`, { method: 'POST', headers: { 'Csc-Api-Key': created.apiKey } })
      const tokens = (await ask()).body as Tokens
      assert.ok(tokens.accessToken)
      clock.advance(61_000)
      assert.deepEqual(answerOf(await ask()), refused(401, KEY_REFUSED))
      const refresh = await request(`${server.url}/v2/oauth/refresh-tokens`, { method: 'POST', headers: { 'X-Refresh-Token': tokens.refreshToken } })
      assert.deepEqual(answerOf(refresh), refused(401, REFRESH_REFUSED))
    } finally {
      await server.close()
    }
  })
})

describe('gatehouse api-keys (CLI)', () => {
  it('creates a key shown once as KEYID:SECRET, lists it, and revokes it', async () => {
    const server = await startTestServer()
    try {
      const env = { GATEHOUSE_DATABASE_URL: server.database.url, GATEHOUSE_DATA_DIR: server.database.dataDir, GATEHOUSE_SECRET: TEST_SECRET }
      const created = await runCli(['api-keys', 'create', '--name', 'cli key', '--scope', 'api read', '--expires-in', '3600', '--json'], { env })
      assert.equal(created.code, 0, created.stderr)
      const body = JSON.parse(created.stdout) as Record<string, unknown>
      assert.deepEqual(Object.keys(body), ['id', 'name', 'client_id', 'scopes', 'audience', 'expires_at', 'revoked_at', 'created_at', 'key'])
      assert.match(body.id as string, /^[0-9A-F]{6}$/)
      assert.match(body.key as string, new RegExp(`^${body.id as string}:[A-Za-z0-9+/]{43}=$`))
      assert.deepEqual([body.name, body.scopes, body.audience, body.revoked_at], ['cli key', ['api', 'read'], null, null])
      const answer = await request(`${server.url}/v2/oauth/request-tokens`, { method: 'POST', headers: { 'Csc-Api-Key': body.key as string } })
      assert.equal(answer.status, 200, answer.text)
      assert.equal(jwtPayload((answer.body as Tokens).accessToken).scope, 'api read')

      const listed = await runCli(['api-keys', 'list', '--json'], { env })
      const keys = (JSON.parse(listed.stdout) as { api_keys: Record<string, unknown>[] }).api_keys
      assert.deepEqual(keys.map((k) => [k.id, k.key]), [[body.id, undefined]])

      const revoked = await runCli(['api-keys', 'revoke', body.id as string, '--json'], { env })
      assert.deepEqual(JSON.parse(revoked.stdout), { revoked: body.id })
      const after = await request(`${server.url}/v2/oauth/request-tokens`, { method: 'POST', headers: { 'Csc-Api-Key': body.key as string } })
      assert.equal(after.status, 401)

      const noClient = await runCli(['api-keys', 'create', '--name', 'x', '--client', 'nope', '--json'], { env })
      assert.deepEqual([noClient.code, noClient.stderr.trim()], [2, JSON.stringify({ error: { message: 'no client with id nope', exit_code: 2 } })])
    } finally {
      await server.close()
    }
  })
})
