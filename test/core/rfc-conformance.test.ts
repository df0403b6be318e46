import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import * as oidc from 'openid-client'
import { jwtPayload, request, type HttpAnswer } from '../helpers/http.js'
import { freePort, startTestServer, type TestServer } from '../helpers/server.js'

/** RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E. */
const DESCRIPTION_CHARS = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/

const status = (answer: HttpAnswer): [number, unknown] => [answer.status, answer.body]

/** Every array of a JSON document, with its path: none may be empty (RFC 8414 §3.2). */
function emptyArrays(value: unknown, path = '$'): string[] {
  if (Array.isArray(value)) return value.length === 0 ? [path] : value.flatMap((item, i) => emptyArrays(item, `${path}[${i}]`))
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => emptyArrays(item, `${path}.${key}`))
  return []
}

describe('RFC conformance of the token, metadata and UserInfo answers (issue 12)', () => {
  let server: TestServer
  let client: { id: string; secret: string }
  let bare: { id: string; secret: string }

  before(async () => {
    server = await startTestServer()
    client = await server.createClient({ scopes: ['openid', 'offline_access', 'email', 'api'], grantTypes: ['client_credentials', 'password', 'refresh_token', 'api_key'] })
    bare = await server.createClient({ scopes: [], grantTypes: ['client_credentials', 'password', 'refresh_token'] })
    await server.createUser('ann@example.com', 'correct horse battery staple', 'Ann')
  })
  after(() => server.close())

  describe('error_description carries only RFC 6749 §5.2 characters', () => {
    it('replaces the quotes and non-ASCII letters of an echoed grant_type at /oauth/token', async () => {
      const answer = await request(`${server.url}/oauth/token`, { form: { grant_type: 'café"\\x' }, basic: client })
      assert.deepEqual(status(answer), [400, { error: 'unsupported_grant_type', error_description: "The grant type 'cafe'/x' is not supported." }])
    })

    it('refuses a scope with quotes or non-ASCII letters as malformed (RFC 6749 §3.3), at /oauth/token and /connect/token', async () => {
      const standard = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', scope: 'api "é' }, basic: client })
      const identity = await request(`${server.url}/connect/token`, { form: { grant_type: 'client_credentials', scope: 'ré"sumé', client_id: client.id, client_secret: client.secret } })
      for (const answer of [standard, identity]) assert.deepEqual(status(answer), [400, { error: 'invalid_scope', error_description: 'The scope parameter is malformed.' }])
    })

    it('does the same for an echoed token_type_hint at /connect/introspect', async () => {
      const answer = await request(`${server.url}/connect/introspect`, { form: { token: 'x', token_type_hint: 'ïd"', client_id: client.id, client_secret: client.secret } })
      assert.deepEqual(status(answer), [400, { error: 'unsupported_token_type', error_description: "The token type hint 'id'' is not supported." }])
    })
  })

  describe('metadata (RFC 8414) and OpenID discovery', () => {
    it('lists no empty array at either well-known path, and response_types_supported is exactly ["code"] (RFC 8414 §2, §3.2)', async () => {
      for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
        const body = (await request(server.url + path)).body as Record<string, unknown>
        assert.deepEqual(emptyArrays(body), [], path)
        assert.deepEqual(body.response_types_supported, ['code'], path)
      }
      const oauth = (await request(`${server.url}/.well-known/oauth-authorization-server`)).body as Record<string, unknown>
      assert.equal('scopes_supported' in oauth, false)
    })

    it('names the UserInfo, logout and ID-token members in the OpenID configuration only (RFC 8414 has no such members)', async () => {
      const openid = (await request(`${server.url}/.well-known/openid-configuration`)).body as Record<string, unknown>
      const oauth = (await request(`${server.url}/.well-known/oauth-authorization-server`)).body as Record<string, unknown>
      assert.equal(openid.userinfo_endpoint, `${server.url}/oauth/userinfo`)
      const openidOnly = ['userinfo_endpoint', 'end_session_endpoint', 'subject_types_supported', 'id_token_signing_alg_values_supported', 'claims_supported', 'scopes_supported']
      for (const member of openidOnly) assert.equal(member in oauth, false, member)
      const without = (document: Record<string, unknown>) => Object.fromEntries(Object.entries(document).filter(([name]) => !openidOnly.includes(name)))
      assert.deepEqual(without(openid), without(oauth))
    })

    it('lets openid-client discover the UserInfo endpoint and fetch the claims', async () => {
      const config = await oidc.discovery(new URL(server.url), client.id, undefined, oidc.ClientSecretBasic(client.secret), { execute: [oidc.allowInsecureRequests] })
      assert.equal(config.serverMetadata().userinfo_endpoint, `${server.url}/oauth/userinfo`)
      const tokens = await oidc.genericGrantRequest(config, 'password', { username: 'ann@example.com', password: 'correct horse battery staple', scope: 'openid email' })
      const sub = jwtPayload(tokens.access_token).sub as string
      assert.deepEqual(await oidc.fetchUserInfo(config, tokens.access_token, sub), { sub, email: 'ann@example.com' })
    })
  })

  describe('grant_type=api_key is a Canary grant only', () => {
    it('answers unsupported_grant_type at /oauth/token, as any unknown grant', async () => {
      const answer = await request(`${server.url}/oauth/token`, { form: { grant_type: 'api_key' }, basic: client })
      assert.deepEqual(status(answer), [400, { error: 'unsupported_grant_type', error_description: "The grant type 'api_key' is not supported." }])
      const anonymous = await request(`${server.url}/oauth/token`, { form: { grant_type: 'api_key' } })
      assert.deepEqual(status(anonymous), [400, { error: 'unsupported_grant_type', error_description: "The grant type 'api_key' is not supported." }])
      const wrongSecret = await request(`${server.url}/oauth/token`, { form: { grant_type: 'api_key' }, basic: { id: client.id, secret: 'wrong-secret-0000' } })
      assert.equal(wrongSecret.status, 401)
    })

    it('is refused by the wrapped dialect too', async () => {
      const answer = await request(`${server.url}/v1/auth/token`, { form: { grant_type: 'api_key', client_id: client.id, client_secret: client.secret } })
      assert.deepEqual(status(answer), [400, { error: { code: '400013', code_reason: 'invalid_request', message: 'Missing or invalid parameters' } }])
    })
  })

  describe('a client with no scopes gets no scope member (RFC 6749 §5.1), nor a scope claim', () => {
    it('at /oauth/token, and its JWT and introspection carry no scope', async () => {
      const answer = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: bare })
      const body = answer.body as Record<string, unknown>
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type'])
      assert.equal('scope' in jwtPayload(body.access_token as string), false)
      const introspection = await request(`${server.url}/oauth/introspect`, { form: { token: body.access_token as string }, basic: bare })
      assert.equal('scope' in (introspection.body as Record<string, unknown>), false)
      assert.equal((introspection.body as Record<string, unknown>).active, true)
    })

    it('at /connect/token', async () => {
      const answer = await request(`${server.url}/connect/token`, { form: { grant_type: 'client_credentials', client_id: bare.id, client_secret: bare.secret } })
      assert.deepEqual(Object.keys(answer.body as object).sort(), ['access_token', 'expires_in', 'token_type'])
    })

    it('on a refresh at /oauth/token', async () => {
      const login = await request(`${server.url}/oauth/token`, { form: { grant_type: 'password', username: 'ann@example.com', password: 'correct horse battery staple' }, basic: bare })
      const first = login.body as Record<string, unknown>
      assert.deepEqual(Object.keys(first).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type'])
      const refreshed = await request(`${server.url}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: first.refresh_token as string }, basic: bare })
      assert.deepEqual(Object.keys(refreshed.body as object).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type'])
    })
  })

  it('introspects a refresh token without token_type (RFC 7662 §2.2 names access token types only)', async () => {
    const login = await request(`${server.url}/oauth/token`, { form: { grant_type: 'password', username: 'ann@example.com', password: 'correct horse battery staple', scope: 'api' }, basic: client })
    const refreshToken = (login.body as Record<string, string>).refresh_token as string
    for (const path of ['/oauth/introspect', '/connect/introspect']) {
      const answer = await request(`${server.url}${path}`, { form: { token: refreshToken, client_id: client.id, client_secret: client.secret } })
      const body = answer.body as Record<string, unknown>
      assert.deepEqual(Object.keys(body).sort(), ['active', 'client_id', 'exp', 'iat', 'iss', 'scope', 'sub'], path)
    }
  })

  describe('a malformed bearer header is 400 invalid_request (RFC 6750 §3.1)', () => {
    for (const header of ['Bearer a b', 'Bearer ', 'Bearer', 'bearer "quoted"']) {
      it(`at /connect/userinfo: ${JSON.stringify(header)}`, async () => {
        const answer = await request(`${server.url}/connect/userinfo`, { headers: { authorization: header } })
        assert.deepEqual([answer.status, answer.headers.get('www-authenticate'), answer.body], [
          400,
          'Bearer error="invalid_request", error_description="The Authorization header must be Bearer followed by one token."',
          { error: 'invalid_request', error_description: 'The Authorization header must be Bearer followed by one token.' },
        ])
      })
    }
  })
})

describe('an issuer with a path (RFC 8414 §3.1)', () => {
  let server: TestServer
  let issuer: string
  before(async () => {
    // Behind a proxy that maps https://host/tenant1/* to the server's root.
    const port = await freePort()
    issuer = `http://127.0.0.1:${port}/tenant1`
    server = await startTestServer({ env: { GATEHOUSE_ISSUER: `${issuer}/` }, port: Number(port) })
  })
  after(() => server.close())

  it('keeps the issuer without its trailing slash, in the metadata and in tokens', async () => {
    assert.equal(server.config.issuer, issuer)
    const answer = await request(`${server.url}/.well-known/oauth-authorization-server/tenant1`)
    assert.equal(answer.status, 200)
    const body = answer.body as Record<string, unknown>
    assert.equal(body.issuer, issuer)
    assert.equal(body.token_endpoint, `${issuer}/oauth/token`)
  })

  it('serves the metadata at the inserted well-known URL that openid-client derives', async () => {
    const client = await server.createClient()
    const config = await oidc.discovery(new URL(issuer), client.id, undefined, oidc.ClientSecretBasic(client.secret), { algorithm: 'oauth2', execute: [oidc.allowInsecureRequests] })
    assert.equal(config.serverMetadata().issuer, issuer)
  })

  it('answers 404 for another tenant path', async () => {
    assert.equal((await request(`${server.url}/.well-known/oauth-authorization-server/tenant2`)).status, 404)
  })
})

describe('wireDescription', () => {
  it('maps any text into the RFC 6749 §5.2 character set', async () => {
    const { wireDescription } = await import('../../src/http/error-mapping.js')
    assert.equal(wireDescription('Crème "brûlée" \\ 東京\n\t'), "Creme 'brulee' / ????")
    for (const text of ['\u0000\u007f\u00a0', '💥', 'ǅ ﬁ Ω']) assert.match(wireDescription(text), DESCRIPTION_CHARS)
  })
})
