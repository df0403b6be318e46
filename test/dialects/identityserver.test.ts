import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request, type HttpAnswer } from '../helpers/http.js'
import { introspect, runCurl, verifyWithJwks } from './support.js'

/** Seed 001's curl, verbatim but for the host and the placeholders. Note: it sends no password. */
const SEED_CURL = `curl -X POST "https://auth.app.gospeech.com/connect/token" \\
	-d "grant_type=password" \\
	-d "client_id=<your_client_id>" \\
  -d "client_secret=<your_client_secret>" \\
  -d "username=<your_account_email>" \\
  -d "scope=openid offline_access email profile integrated-api"`

const SEED_SCOPES = ['openid', 'offline_access', 'email', 'profile', 'integrated-api', 'management-api']
const HEADERS = { cache: 'no-store, no-cache, max-age=0', pragma: 'no-cache' }
const BAD_LOGIN = { error: 'invalid_grant', error_description: 'invalid_username_or_password' }
const BAD_REFRESH = { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked.' }
const BAD_CLIENT = { error: 'invalid_client', error_description: 'Client authentication failed.' }

type Answer = { status: number; body: unknown; cache: string | null; pragma: string | null }
const answerOf = (answer: HttpAnswer): Answer => ({
  status: answer.status,
  body: answer.body,
  cache: answer.headers.get('cache-control'),
  pragma: answer.headers.get('pragma'),
})
const refused = (body: unknown): Answer => ({ status: 400, body, ...HEADERS })

describe('IdentityServer dialect (seed 001)', () => {
  let server: TestServer
  let client: { id: string; secret: string }
  let machine: { id: string; secret: string }
  let userId: string
  const USER = { username: 'dev@gospeech.example', password: 'developer password' }

  const token = (form: Record<string, string>, as: { id: string; secret: string } | null = client): Promise<HttpAnswer> =>
    request(`${server.url}/connect/token`, { form: { ...(as ? { client_id: as.id, client_secret: as.secret } : {}), ...form } })
  const login = async (extra: Record<string, string> = {}): Promise<Record<string, string>> => {
    const answer = await token({ grant_type: 'password', ...USER, ...extra })
    assert.equal(answer.status, 200, answer.text)
    return answer.body as Record<string, string>
  }

  before(async () => {
    server = await startTestServer()
    client = await server.createClient({ grantTypes: ['password', 'refresh_token'], scopes: SEED_SCOPES })
    machine = await server.createClient({ grantTypes: ['client_credentials'], scopes: SEED_SCOPES })
    userId = (await server.createUser(USER.username, USER.password, 'Dev Eloper')).id
  })
  after(() => server.close())

  describe('replays the seed examples', () => {
    const seedCommand = (): string =>
      SEED_CURL.replace('https://auth.app.gospeech.com', server.url)
        .replace('<your_client_id>', client.id)
        .replace('<your_client_secret>', client.secret)
        .replace('<your_account_email>', USER.username)

    it('answers the seed curl as written (no password) with invalid_username_or_password, as its "Common errors" says', async () => {
      const answer = await runCurl(seedCommand())
      assert.deepEqual(
        { status: answer.status, body: answer.body, cache: answer.headers['cache-control'], pragma: answer.headers['pragma'] },
        { status: 400, body: BAD_LOGIN, ...HEADERS },
      )
    })

    it('answers the seed curl with the password added exactly like the seed response', async () => {
      const answer = await runCurl(`${seedCommand()} -d "password=${USER.password}"`)
      assert.equal(answer.status, 200, answer.text)
      assert.deepEqual([answer.headers['cache-control'], answer.headers['pragma']], [HEADERS.cache, HEADERS.pragma])
      const body = answer.body as Record<string, unknown>
      assert.deepEqual(Object.keys(body), ['access_token', 'expires_in', 'token_type', 'refresh_token', 'scope'])
      assert.deepEqual(
        { expires_in: body.expires_in, token_type: body.token_type, scope: body.scope },
        { expires_in: 3600, token_type: 'Bearer', scope: 'email integrated-api offline_access openid profile' },
      )
      assert.match(body.refresh_token as string, /^rt-/)
      const claims = await verifyWithJwks(server.url, body.access_token as string)
      assert.equal(claims.sub, userId)
    })

    it('the access token works as the seed\'s Bearer header does (here: /connect/userinfo)', async () => {
      const tokens = await login({ scope: 'openid offline_access email profile integrated-api' })
      const answer = await request(`${server.url}/connect/userinfo`, { headers: { Authorization: `Bearer ${tokens.access_token}` } })
      assert.deepEqual(answerOf(answer), { status: 200, body: { sub: userId, name: 'Dev Eloper', email: USER.username }, ...HEADERS })
    })
  })

  describe('scopes and refresh tokens', () => {
    it('grants all the client\'s scopes when none is asked for, with a refresh token (offline_access)', async () => {
      const tokens = await login()
      assert.equal(tokens.scope, 'email integrated-api management-api offline_access openid profile')
      assert.ok(tokens.refresh_token)
    })

    it('issues no refresh token without offline_access', async () => {
      const tokens = await login({ scope: 'openid integrated-api' })
      assert.deepEqual(Object.keys(tokens), ['access_token', 'expires_in', 'token_type', 'scope'])
    })

    it('client_credentials: defaults to the non-user scopes, no refresh token', async () => {
      const answer = await token({ grant_type: 'client_credentials' }, machine)
      assert.equal(answer.status, 200, answer.text)
      const body = answer.body as Record<string, unknown>
      assert.deepEqual(Object.keys(body), ['access_token', 'expires_in', 'token_type', 'scope'])
      assert.equal(body.scope, 'email integrated-api management-api profile')
    })

    it('rotates refresh tokens and revokes the family on reuse', async () => {
      const first = await login()
      const rotated = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token as string })
      assert.equal(rotated.status, 200, rotated.text)
      const second = rotated.body as Record<string, string>
      assert.deepEqual(Object.keys(second), ['access_token', 'expires_in', 'token_type', 'refresh_token', 'scope'])
      assert.notEqual(second.refresh_token, first.refresh_token)
      assert.deepEqual(answerOf(await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token as string })), refused(BAD_REFRESH))
      assert.deepEqual(answerOf(await token({ grant_type: 'refresh_token', refresh_token: second.refresh_token as string })), refused(BAD_REFRESH))
    })

    it('keeps the refresh token for a client in ReUse mode', async () => {
      const reuse = await server.createClient({ grantTypes: ['password', 'refresh_token'], scopes: SEED_SCOPES, rotateRefreshTokens: false })
      const first = (await token({ grant_type: 'password', ...USER }, reuse)).body as Record<string, string>
      const again = (await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token as string }, reuse)).body as Record<string, string>
      assert.equal(again.refresh_token, first.refresh_token)
    })
  })

  describe('errors: every one is 400 with IdentityServer\'s codes', () => {
    const rows: [string, () => Promise<HttpAnswer>, unknown][] = [
      ['wrong password', () => token({ grant_type: 'password', username: USER.username, password: 'wrong password' }), BAD_LOGIN],
      ['unknown user', () => token({ grant_type: 'password', username: 'nobody@example.com', password: 'whatever1' }), BAD_LOGIN],
      ['missing password', () => token({ grant_type: 'password', username: USER.username }), BAD_LOGIN],
      ['missing username', () => token({ grant_type: 'password', password: USER.password }), BAD_LOGIN],
      ['unknown client', () => token({ grant_type: 'password', ...USER }, { id: 'no-such-client', secret: 'x' }), BAD_CLIENT],
      ['bad client secret', () => token({ grant_type: 'password', ...USER }, { id: client.id, secret: 'wrong' }), BAD_CLIENT],
      ['no client credentials', () => token({ grant_type: 'password', ...USER }, null), { error: 'invalid_client', error_description: 'Client authentication is required.' }],
      [
        'bad Basic credentials (still 400, no challenge)',
        () => request(`${server.url}/connect/token`, { form: { grant_type: 'password', ...USER }, basic: { id: client.id, secret: 'wrong' } }),
        BAD_CLIENT,
      ],
      ['grant not allowed for the client', () => token({ grant_type: 'client_credentials' }), { error: 'unauthorized_client', error_description: 'This client may not use the client_credentials grant.' }],
      ['unknown grant', () => token({ grant_type: 'implicit' }), { error: 'unsupported_grant_type', error_description: "The grant type 'implicit' is not supported." }],
      ['missing grant_type', () => token({}), { error: 'unsupported_grant_type', error_description: 'The grant_type parameter is required.' }],
      ['a grant only other dialects serve', () => token({ grant_type: 'api_key' }), { error: 'unsupported_grant_type', error_description: "The grant type 'api_key' is not supported." }],
      ['scope not allowed', () => token({ grant_type: 'password', ...USER, scope: 'openid admin' }), { error: 'invalid_scope', error_description: "The scope 'admin' is not allowed for this client." }],
      ['openid with client_credentials', () => token({ grant_type: 'client_credentials', scope: 'openid' }, machine), { error: 'invalid_scope', error_description: "The scope 'openid' needs a user; client_credentials has none." }],
      ['offline_access with client_credentials', () => token({ grant_type: 'client_credentials', scope: 'offline_access' }, machine), { error: 'invalid_scope', error_description: "The scope 'offline_access' needs a user; client_credentials has none." }],
      ['unknown refresh token', () => token({ grant_type: 'refresh_token', refresh_token: `rt-${'A'.repeat(51)}` }), BAD_REFRESH],
      ['missing refresh token', () => token({ grant_type: 'refresh_token' }), { error: 'invalid_request', error_description: 'The refresh_token parameter is required.' }],
      ['a JSON body', () => request(`${server.url}/connect/token`, { json: { grant_type: 'password', client_id: client.id, client_secret: client.secret, ...USER } }), { error: 'invalid_request', error_description: 'The request body must be application/x-www-form-urlencoded.' }],
      ['a repeated parameter', () => request(`${server.url}/connect/token`, { form: `grant_type=password&grant_type=password&client_id=${client.id}` }), { error: 'invalid_request', error_description: 'The grant_type parameter is repeated.' }],
    ]
    for (const [name, send, body] of rows) {
      it(`answers ${name}`, async () => {
        const answer = await send()
        assert.deepEqual(answerOf(answer), refused(body))
        assert.equal(answer.headers.get('www-authenticate'), null)
      })
    }

    it('answers another client\'s refresh token like an unknown one', async () => {
      const other = await server.createClient({ grantTypes: ['password', 'refresh_token'], scopes: SEED_SCOPES })
      const tokens = await login()
      assert.deepEqual(answerOf(await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string }, other)), refused(BAD_REFRESH))
      // A Canary route will not take it either: it was not issued through an API key.
      const canary = await request(`${server.url}/v2/oauth/refresh-tokens`, { method: 'POST', headers: { 'X-Refresh-Token': tokens.refresh_token as string } })
      assert.deepEqual({ status: canary.status, body: canary.body }, { status: 401, body: BAD_REFRESH })
    })
  })

  describe('/connect/userinfo (OpenID Connect Core §5.3, RFC 6750 errors)', () => {
    const userinfo = (headers: Record<string, string>): Promise<HttpAnswer> => request(`${server.url}/connect/userinfo`, { headers })

    it('returns only the claims of the granted scopes', async () => {
      const emailOnly = await login({ scope: 'openid email' })
      assert.deepEqual((await userinfo({ Authorization: `Bearer ${emailOnly.access_token}` })).body, { sub: userId, email: USER.username })
      const bare = await login({ scope: 'openid' })
      assert.deepEqual((await userinfo({ Authorization: `Bearer ${bare.access_token}` })).body, { sub: userId })
    })

    it('takes the token from a form POST too (RFC 6750 §2.2)', async () => {
      const tokens = await login({ scope: 'openid profile' })
      const answer = await request(`${server.url}/connect/userinfo`, { form: { access_token: tokens.access_token as string } })
      assert.deepEqual(answer.body, { sub: userId, name: 'Dev Eloper' })
    })

    it('challenges a request without a token, refuses a bad one, and one without openid', async () => {
      const none = await userinfo({})
      assert.deepEqual([none.status, none.headers.get('www-authenticate'), none.text], [401, 'Bearer', ''])
      const bad = await userinfo({ Authorization: 'Bearer not.a.token' })
      assert.deepEqual([bad.status, bad.headers.get('www-authenticate'), bad.body], [
        401,
        'Bearer error="invalid_token", error_description="The access token is invalid or expired."',
        { error: 'invalid_token', error_description: 'The access token is invalid or expired.' },
      ])
      const noOpenid = await login({ scope: 'email' })
      const scoped = await userinfo({ Authorization: `Bearer ${noOpenid.access_token}` })
      assert.deepEqual([scoped.status, scoped.body], [403, { error: 'insufficient_scope', error_description: 'The access token lacks the openid scope.' }])
      const machineToken = ((await token({ grant_type: 'client_credentials' }, machine)).body as Record<string, string>).access_token
      assert.equal((await userinfo({ Authorization: `Bearer ${machineToken}` })).status, 403)
    })
  })

  describe('/connect/introspect and /connect/revocation', () => {
    const form = (path: string, fields: Record<string, string>, as = client): Promise<HttpAnswer> =>
      request(`${server.url}${path}`, { form: { client_id: as.id, client_secret: as.secret, ...fields } })

    it('introspects a token in RFC 7662 shape', async () => {
      const tokens = await login({ scope: 'openid email' })
      const answer = await form('/connect/introspect', { token: tokens.access_token as string })
      assert.equal(answer.status, 200)
      const body = answer.body as Record<string, unknown>
      assert.deepEqual(
        { active: body.active, client_id: body.client_id, sub: body.sub, scope: body.scope, token_type: body.token_type },
        { active: true, client_id: client.id, sub: userId, scope: 'email openid', token_type: 'Bearer' },
      )
      assert.deepEqual((await form('/connect/introspect', { token: 'nothing' })).body, { active: false })
    })

    it('revokes a refresh token (RFC 7009): it no longer refreshes', async () => {
      const tokens = await login()
      const answer = await form('/connect/revocation', { token: tokens.refresh_token as string, token_type_hint: 'refresh_token' })
      assert.deepEqual([answer.status, answer.text, answer.headers.get('cache-control')], [200, '', HEADERS.cache])
      assert.deepEqual(answerOf(await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string })), refused(BAD_REFRESH))
    })

    it('refuses a missing token, an unknown hint and a bad client with 400', async () => {
      for (const path of ['/connect/introspect', '/connect/revocation']) {
        assert.deepEqual(answerOf(await form(path, {})), refused({ error: 'invalid_request', error_description: 'The token parameter is required.' }))
        assert.deepEqual(
          answerOf(await form(path, { token: 'x', token_type_hint: 'id_token' })),
          refused({ error: 'unsupported_token_type', error_description: "The token type hint 'id_token' is not supported." }),
        )
        assert.deepEqual(answerOf(await form(path, { token: 'x' }, { id: client.id, secret: 'wrong' })), refused(BAD_CLIENT))
      }
    })
  })

  it('its tokens are active at the standard /oauth/introspect', async () => {
    const tokens = await login()
    for (const value of [tokens.access_token, tokens.refresh_token] as string[]) {
      assert.equal((await introspect(server.url, machine, value)).active, true)
    }
  })
})
