import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { basicHeader, jwtHeader, jwtPayload, request, type HttpAnswer } from '../helpers/http.js'

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

function assertNoStore(answer: HttpAnswer): void {
  assert.equal(answer.headers.get('cache-control'), NO_STORE['cache-control'])
  assert.equal(answer.headers.get('pragma'), NO_STORE.pragma)
}

function assertError(answer: HttpAnswer, status: number, body: Record<string, unknown>, wwwAuthenticate: string | null = null): void {
  assert.deepEqual({ status: answer.status, body: answer.body }, { status, body })
  assert.equal(answer.headers.get('www-authenticate'), wwwAuthenticate)
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/)
  assertNoStore(answer)
}

const BASIC_CHALLENGE = 'Basic realm="gatehouse", charset="UTF-8"'
const CLIENT_FAILED = { error: 'invalid_client', error_description: 'Client authentication failed.' }

describe('POST /oauth/token', () => {
  let server: TestServer
  let tokenUrl: string
  let client: { id: string; secret: string }
  let ccOnly: { id: string; secret: string }
  let opaque: { id: string; secret: string }

  before(async () => {
    server = await startTestServer()
    tokenUrl = `${server.url}/oauth/token`
    client = await server.createClient({ scopes: ['api', 'read', 'write'], defaultScopes: ['api'], audience: 'https://api.example.com' })
    ccOnly = await server.createClient({ grantTypes: ['client_credentials'], scopes: ['api'] })
    opaque = await server.createClient({ tokenFormat: 'opaque', scopes: ['api'], accessTokenTtl: 600 })
    await server.createUser('ann@example.com', 'correct horse battery', 'Ann')
  })
  after(() => server.close())

  describe('client_credentials', () => {
    it('issues an RFC 9068 JWT to a client authenticated with Basic', async () => {
      const answer = await request(tokenUrl, { form: { grant_type: 'client_credentials', scope: 'read api' }, basic: client })
      assert.equal(answer.status, 200)
      assertNoStore(answer)
      const body = answer.body as Record<string, unknown>
      assert.deepEqual(Object.keys(body), ['access_token', 'token_type', 'expires_in', 'scope'])
      assert.deepEqual({ ...body, access_token: '…' }, { access_token: '…', token_type: 'Bearer', expires_in: 3600, scope: 'api read' })
      const token = body.access_token as string
      const header = jwtHeader(token)
      assert.deepEqual(Object.keys(header).sort(), ['alg', 'kid', 'typ'])
      assert.equal(header.alg, 'ES256')
      assert.equal(header.typ, 'at+jwt')
      const claims = jwtPayload(token)
      assert.deepEqual(Object.keys(claims).sort(), ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub'])
      assert.equal(claims.iss, server.url)
      assert.equal(claims.sub, client.id)
      assert.equal(claims.client_id, client.id)
      assert.equal(claims.aud, 'https://api.example.com')
      assert.equal(claims.scope, 'api read')
      assert.equal((claims.exp as number) - (claims.iat as number), 3600)
    })

    it('accepts client_secret_post in a form body and grants the default scopes when none are asked for', async () => {
      const answer = await request(tokenUrl, { form: { grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret } })
      assert.equal(answer.status, 200)
      assert.equal((answer.body as Record<string, unknown>).scope, 'api')
    })

    it('accepts a JSON body, as seed 002 sends it', async () => {
      const answer = await request(tokenUrl, { json: { client_id: ccOnly.id, client_secret: ccOnly.secret, grant_type: 'client_credentials' } })
      assert.equal(answer.status, 200)
      assertNoStore(answer)
      assert.deepEqual({ ...(answer.body as object), access_token: '…' }, { access_token: '…', token_type: 'Bearer', expires_in: 3600, scope: 'api' })
    })

    it('never includes a refresh token (RFC 6749 §4.4.3)', async () => {
      const answer = await request(tokenUrl, { form: { grant_type: 'client_credentials' }, basic: client })
      assert.equal((answer.body as Record<string, unknown>).refresh_token, undefined)
    })

    it('issues an opaque sk- token to a client set to the opaque format', async () => {
      const answer = await request(tokenUrl, { form: { grant_type: 'client_credentials' }, basic: opaque })
      assert.equal(answer.status, 200)
      const body = answer.body as Record<string, unknown>
      assert.match(body.access_token as string, /^sk-[0-9a-f]{32}$/)
      assert.deepEqual({ ...body, access_token: '…' }, { access_token: '…', token_type: 'Bearer', expires_in: 600, scope: 'api' })
    })
  })

  describe('password', () => {
    it('issues an access token and a refresh token for a valid user', async () => {
      const answer = await request(tokenUrl, {
        form: { grant_type: 'password', username: 'Ann@Example.com', password: 'correct horse battery', scope: 'api write' },
        basic: client,
      })
      assert.equal(answer.status, 200)
      assertNoStore(answer)
      const body = answer.body as Record<string, unknown>
      assert.deepEqual(Object.keys(body), ['access_token', 'token_type', 'expires_in', 'refresh_token', 'scope'])
      assert.match(body.refresh_token as string, /^rt-[A-Za-z0-9_-]{51}$/)
      assert.equal(body.scope, 'api write')
      const claims = jwtPayload(body.access_token as string)
      assert.notEqual(claims.sub, client.id)
      assert.equal(claims.client_id, client.id)
    })

    it('answers a wrong password and an unknown user identically', async () => {
      const wrong = await request(tokenUrl, { form: { grant_type: 'password', username: 'ann@example.com', password: 'wrong password!' }, basic: client })
      const unknown = await request(tokenUrl, { form: { grant_type: 'password', username: 'nobody@example.com', password: 'wrong password!' }, basic: client })
      const expected = { error: 'invalid_grant', error_description: 'invalid_username_or_password' }
      assertError(wrong, 400, expected)
      assertError(unknown, 400, expected)
    })

    it('requires a username and a password', async () => {
      assertError(await request(tokenUrl, { form: { grant_type: 'password', password: 'x' }, basic: client }), 400, {
        error: 'invalid_request',
        error_description: 'The username parameter is required.',
      })
      assertError(await request(tokenUrl, { form: { grant_type: 'password', username: 'ann@example.com' }, basic: client }), 400, {
        error: 'invalid_request',
        error_description: 'The password parameter is required.',
      })
    })
  })

  describe('RFC 6749 §5.2 errors', () => {
    it('invalid_request: no grant_type', async () => {
      assertError(await request(tokenUrl, { form: {}, basic: client }), 400, { error: 'invalid_request', error_description: 'The grant_type parameter is required.' })
    })

    it('invalid_request: a repeated parameter (§3.1)', async () => {
      assertError(await request(tokenUrl, { form: 'grant_type=client_credentials&scope=api&scope=read', basic: client }), 400, {
        error: 'invalid_request',
        error_description: 'The scope parameter is repeated.',
      })
    })

    it('invalid_request: two client authentication methods (§2.3)', async () => {
      assertError(await request(tokenUrl, { form: { grant_type: 'client_credentials', client_secret: client.secret }, basic: client }), 400, {
        error: 'invalid_request',
        error_description: 'Use one client authentication method, not both Basic and client_secret.',
      })
    })

    it('invalid_request: a body that is neither a form nor JSON', async () => {
      assertError(await request(tokenUrl, { raw: { contentType: 'text/plain', body: 'grant_type=client_credentials' }, basic: client }), 400, {
        error: 'invalid_request',
        error_description: 'The request body must be application/x-www-form-urlencoded or application/json.',
      })
    })

    it('invalid_request: malformed JSON', async () => {
      assertError(await request(tokenUrl, { raw: { contentType: 'application/json', body: '{"grant_type":' }, basic: client }), 400, {
        error: 'invalid_request',
        error_description: 'The request could not be read.',
      })
    })

    it('invalid_request: a JSON parameter that is not a string', async () => {
      assertError(await request(tokenUrl, { json: { grant_type: 'client_credentials', scope: ['api'] }, basic: client }), 400, {
        error: 'invalid_request',
        error_description: 'The scope parameter is repeated.',
      })
      assertError(await request(tokenUrl, { json: { grant_type: 'client_credentials', scope: 7 }, basic: client }), 400, {
        error: 'invalid_request',
        error_description: 'The scope parameter must be a string.',
      })
    })

    it('invalid_client: no client authentication at all, without a Basic challenge', async () => {
      assertError(await request(tokenUrl, { form: { grant_type: 'client_credentials' } }), 401, {
        error: 'invalid_client',
        error_description: 'Client authentication is required.',
      })
    })

    it('invalid_client: a wrong secret over Basic is 401 with WWW-Authenticate', async () => {
      assertError(await request(tokenUrl, { form: { grant_type: 'client_credentials' }, basic: { id: client.id, secret: 'wrong' } }), 401, CLIENT_FAILED, BASIC_CHALLENGE)
    })

    it('invalid_client: an unknown client answers exactly like a wrong secret', async () => {
      assertError(await request(tokenUrl, { form: { grant_type: 'client_credentials' }, basic: { id: 'no-such-client', secret: 'wrong' } }), 401, CLIENT_FAILED, BASIC_CHALLENGE)
    })

    it('invalid_client: a wrong secret in the body is 401 without a Basic challenge', async () => {
      assertError(await request(tokenUrl, { form: { grant_type: 'client_credentials', client_id: client.id, client_secret: 'wrong' } }), 401, CLIENT_FAILED)
    })

    it('invalid_client: a malformed Basic header', async () => {
      assertError(
        await request(tokenUrl, { form: { grant_type: 'client_credentials' }, headers: { authorization: 'Basic !!!' } }),
        401,
        { error: 'invalid_client', error_description: 'The Authorization header is not valid Basic credentials.' },
        BASIC_CHALLENGE,
      )
    })

    it('unauthorized_client: a grant the client may not use', async () => {
      assertError(await request(tokenUrl, { form: { grant_type: 'password', username: 'ann@example.com', password: 'correct horse battery' }, basic: ccOnly }), 400, {
        error: 'unauthorized_client',
        error_description: 'This client may not use the password grant.',
      })
    })

    it('unsupported_grant_type: a grant Gatehouse does not know', async () => {
      assertError(await request(tokenUrl, { form: { grant_type: 'implicit', code: 'x' }, basic: client }), 400, {
        error: 'unsupported_grant_type',
        error_description: "The grant type 'implicit' is not supported.",
      })
    })

    it('invalid_client comes before unsupported_grant_type when the client credentials are wrong', async () => {
      assertError(await request(tokenUrl, { form: { grant_type: 'authorization_code' }, basic: { id: client.id, secret: 'wrong' } }), 401, CLIENT_FAILED, BASIC_CHALLENGE)
    })

    it('invalid_scope: a scope the client may not have', async () => {
      assertError(await request(tokenUrl, { form: { grant_type: 'client_credentials', scope: 'api admin' }, basic: client }), 400, {
        error: 'invalid_scope',
        error_description: "The scope 'admin' is not allowed for this client.",
      })
    })

    it('invalid_scope: a malformed scope', async () => {
      assertError(await request(tokenUrl, { form: { grant_type: 'client_credentials', scope: 'api "quoted"' }, basic: client }), 400, {
        error: 'invalid_scope',
        error_description: 'The scope parameter is malformed.',
      })
    })

    it('invalid_grant: an unknown refresh token', async () => {
      assertError(await request(tokenUrl, { form: { grant_type: 'refresh_token', refresh_token: 'rt-nope' }, basic: client }), 400, {
        error: 'invalid_grant',
        error_description: 'The refresh token is invalid, expired or revoked.',
      })
    })

    it('GET is refused with 405 and Allow: POST unless the compatibility switch is on', async () => {
      const answer = await request(`${tokenUrl}?grant_type=client_credentials&client_id=${client.id}&client_secret=${client.secret}`)
      assertError(answer, 405, { error: 'invalid_request', error_description: 'Use POST: a GET would put credentials in the URL.' })
      assert.equal(answer.headers.get('allow'), 'POST')
    })

    it('a body over the size limit is invalid_request, not a crash', async () => {
      const answer = await request(tokenUrl, { form: { grant_type: 'client_credentials', scope: 'a'.repeat(70_000) }, basic: client })
      assertError(answer, 400, { error: 'invalid_request', error_description: 'The request could not be read.' })
    })
  })

  describe('RFC 6749 §2.3.1 encoding of client credentials', () => {
    it('form-urldecodes an id and secret with special characters in the Basic header', async () => {
      const id = 'svc:billing +%&=ü/é'
      const special = await server.createClient({ id, scopes: ['api'] })
      const answer = await request(tokenUrl, { form: { grant_type: 'client_credentials' }, headers: { authorization: basicHeader(id, special.secret) } })
      assert.equal(answer.status, 200)
      assert.equal(jwtPayload((answer.body as Record<string, string>).access_token as string).client_id, id)
      // The same id sent in the body is decoded by the form parser.
      const post = await request(tokenUrl, { form: { grant_type: 'client_credentials', client_id: id, client_secret: special.secret } })
      assert.equal(post.status, 200)
    })

    it('treats "+" in an encoded Basic value as a space, so an unencoded "+" does not match', async () => {
      const id = 'a+b'
      const special = await server.createClient({ id, scopes: ['api'] })
      const raw = 'Basic ' + Buffer.from(`${id}:${special.secret}`).toString('base64')
      assertError(await request(tokenUrl, { form: { grant_type: 'client_credentials' }, headers: { authorization: raw } }), 401, CLIENT_FAILED, BASIC_CHALLENGE)
      const encoded = await request(tokenUrl, { form: { grant_type: 'client_credentials' }, headers: { authorization: basicHeader(id, special.secret) } })
      assert.equal(encoded.status, 200)
    })
  })
})
