import type { KeyObject } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { SignJWT } from 'jose'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { jwtHeader, request } from '../helpers/http.js'

/**
 * The MUSTs of docs/conformance.md that no other test proved on its own. Each test names the
 * requirement; the checklist (test/conformance/checklist.test.ts) keeps the references honest.
 */
describe('RFC MUSTs of the conformance checklist', () => {
  let server: TestServer
  let client: { id: string; secret: string }
  let ids: { id: string; secret: string }

  before(async () => {
    server = await startTestServer()
    client = await server.createClient({ scopes: ['api', 'read'], defaultScopes: ['api'] })
    ids = await server.createClient({ scopes: ['openid', 'profile', 'email', 'offline_access', 'api'] })
    await server.createUser('ann@example.com', 'correct horse battery', 'Ann')
  })
  after(() => server.close())

  const token = (form: Record<string, string>, as: { id: string; secret: string } | null = client) =>
    request(`${server.url}/oauth/token`, { form, ...(as ? { basic: as } : {}) })
  const login = async (): Promise<{ access_token: string; refresh_token: string }> => {
    const answer = await token({ grant_type: 'password', username: 'ann@example.com', password: 'correct horse battery', scope: 'api' })
    assert.equal(answer.status, 200, answer.text)
    return answer.body as { access_token: string; refresh_token: string }
  }

  it('treats a parameter sent without a value as omitted (RFC 6749 §3.2)', async () => {
    const noScope = await token({ grant_type: 'client_credentials', scope: '' })
    assert.equal(noScope.status, 200, noScope.text)
    assert.equal((noScope.body as { scope: string }).scope, 'api')
    const noGrant = await token({ grant_type: '' })
    assert.deepEqual({ status: noGrant.status, body: noGrant.body }, { status: 400, body: { error: 'invalid_request', error_description: 'The grant_type parameter is required.' } })
  })

  it('ignores unrecognized request parameters and answers application/json (RFC 6749 §3.2, §5.1)', async () => {
    const answer = await token({ grant_type: 'client_credentials', unknown_parameter: 'x', resource_hint: 'y' })
    assert.equal(answer.status, 200, answer.text)
    assert.match(answer.headers.get('content-type') ?? '', /^application\/json/)
    assert.equal((answer.body as { token_type: string }).token_type, 'Bearer')
  })

  it('does not take client credentials from the request URI (RFC 6749 §2.3.1)', async () => {
    const query = new URLSearchParams({ client_id: client.id, client_secret: client.secret }).toString()
    const answer = await request(`${server.url}/oauth/token?${query}`, { form: { grant_type: 'client_credentials' } })
    assert.equal(answer.status, 401, answer.text)
    assert.equal((answer.body as { error: string }).error, 'invalid_client')
  })

  it('requires client authentication on a refresh (RFC 6749 §6)', async () => {
    const tokens = await login()
    const answer = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.id }, null)
    assert.deepEqual({ status: answer.status, error: (answer.body as { error: string }).error }, { status: 401, error: 'invalid_client' })
    const retry = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token })
    assert.equal(retry.status, 200, 'the refused attempt did not use the refresh token up')
  })

  it('keeps the scope of a refresh token when the refresh asks for none (RFC 6749 §6)', async () => {
    const tokens = await login()
    const answer = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token })
    assert.equal(answer.status, 200, answer.text)
    assert.equal((answer.body as { scope: string }).scope, 'api')
  })

  it('finds a token whatever its token_type_hint says (RFC 7662 §2.1)', async () => {
    const tokens = await login()
    for (const [value, hint] of [[tokens.refresh_token, 'access_token'], [tokens.access_token, 'refresh_token']] as const) {
      const answer = await request(`${server.url}/oauth/introspect`, { form: { token: value, token_type_hint: hint }, basic: client })
      assert.equal(answer.status, 200)
      assert.match(answer.headers.get('content-type') ?? '', /^application\/json/)
      assert.equal((answer.body as { active: boolean }).active, true, hint)
    }
  })

  it('revokes a refresh token sent with the access_token hint (RFC 7009 §2.1)', async () => {
    const tokens = await login()
    const answer = await request(`${server.url}/oauth/revoke`, { form: { token: tokens.refresh_token, token_type_hint: 'access_token' }, basic: client })
    assert.deepEqual({ status: answer.status, text: answer.text }, { status: 200, text: '' })
    const refresh = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token })
    assert.deepEqual({ status: refresh.status, error: (refresh.body as { error: string }).error }, { status: 400, error: 'invalid_grant' })
  })

  it('serves the metadata with 200 as application/json (RFC 8414 §3.2)', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const answer = await request(server.url + path)
      assert.equal(answer.status, 200)
      assert.match(answer.headers.get('content-type') ?? '', /^application\/json/)
      const body = answer.body as Record<string, unknown>
      assert.equal(body.issuer, server.url)
      assert.deepEqual(body.grant_types_supported, ['client_credentials', 'password', 'refresh_token', 'authorization_code', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange'])
    }
  })

  it('publishes P-256 public keys with full-length coordinates and no private member (RFC 7517 §4, §5; RFC 7518 §6.2.1)', async () => {
    const answer = await request(`${server.url}/.well-known/jwks.json`)
    assert.equal(answer.status, 200)
    const keys = (answer.body as { keys: Record<string, string>[] }).keys
    assert.ok(keys.some((key) => key.kty === 'EC'))
    // The RSA key (RS256) is checked in test/core/rs256.test.ts.
    for (const key of keys.filter((candidate) => candidate.kty === 'EC')) {
      assert.deepEqual([key.kty, key.crv, key.alg, key.use], ['EC', 'P-256', 'ES256', 'sig'])
      assert.equal(Buffer.from(key.x ?? '', 'base64url').length, 32)
      assert.equal(Buffer.from(key.y ?? '', 'base64url').length, 32)
      assert.equal(key.d, undefined)
      assert.equal(key.key_ops, undefined, 'use and key_ops are not both present')
      assert.equal(typeof key.kid, 'string')
    }
  })

  it('signs ES256 with a 64-byte signature (R then S) and a kid the JWKS publishes (RFC 7518 §3.4, RFC 7517 §4.5)', async () => {
    const access = ((await token({ grant_type: 'client_credentials' })).body as { access_token: string }).access_token
    assert.equal(Buffer.from(access.split('.')[2] ?? '', 'base64url').length, 64)
    const kids = ((await request(`${server.url}/.well-known/jwks.json`)).body as { keys: { kid: string }[] }).keys.map((k) => k.kid)
    assert.ok(kids.includes(jwtHeader(access).kid as string))
  })

  it('refuses, at its own resource servers, a JWT signed with its key whose typ is not at+jwt (RFC 9068 §4)', async () => {
    const now = Math.floor(Date.now() / 1000)
    const key = server.server.gatehouse.keys.active('ES256')
    const idToken = await new SignJWT({ client_id: ids.id, scope: 'openid profile', jti: 'x1' })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: key.kid })
      .setIssuer(server.url)
      .setSubject(ids.id)
      .setAudience(server.url)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(key.signWith.key as KeyObject)
    const userinfo = await request(`${server.url}/connect/userinfo`, { headers: { authorization: `Bearer ${idToken}` } })
    assert.deepEqual({ status: userinfo.status, error: (userinfo.body as { error: string }).error }, { status: 401, error: 'invalid_token' })
    const introspection = await request(`${server.url}/oauth/introspect`, { form: { token: idToken }, basic: client })
    assert.deepEqual(introspection.body, { active: false })
  })

  it('refuses a bearer token sent two ways at once, and never reads one from a GET query (RFC 6750 §2, §2.2)', async () => {
    const access = ((await request(`${server.url}/connect/token`, { form: { grant_type: 'password', username: 'ann@example.com', password: 'correct horse battery', scope: 'openid' }, basic: ids })).body as { access_token: string }).access_token
    const twice = await request(`${server.url}/connect/userinfo`, { form: { access_token: access }, headers: { authorization: `Bearer ${access}` } })
    assert.deepEqual({ status: twice.status, error: (twice.body as { error: string }).error }, { status: 400, error: 'invalid_request' })
    const query = await request(`${server.url}/connect/userinfo?access_token=${encodeURIComponent(access)}`)
    assert.deepEqual([query.status, query.headers.get('www-authenticate'), query.text], [401, 'Bearer', ''])
  })

  it('answers invalid_client over Basic with 400 and no challenge at /connect/token (seed 001, departing from RFC 6749 §5.2)', async () => {
    const answer = await request(`${server.url}/connect/token`, { form: { grant_type: 'client_credentials' }, basic: { id: client.id, secret: 'wrong' } })
    assert.deepEqual({ status: answer.status, error: (answer.body as { error: string }).error }, { status: 400, error: 'invalid_client' })
    assert.equal(answer.headers.get('www-authenticate'), null)
  })
})
