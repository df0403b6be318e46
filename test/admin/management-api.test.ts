import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createOperatorToken } from '../../src/core/admin/operator-token.js'
import { ManualClock } from '../../src/core/clock.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request, type HttpAnswer } from '../helpers/http.js'
import { runCli, type CliResult } from '../helpers/processes.js'

const PROBLEM = 'application/problem+json; charset=utf-8'

function operatorToken(server: TestServer, ttl?: number): Promise<string> {
  const g = server.server.gatehouse
  return createOperatorToken({ store: g.store, clients: g.clients, operators: g.operators, tokens: g.tokens, audit: g.audit, maxAccessTokenTtl: g.config.maxAccessTokenTtl }, ttl !== undefined ? { ttl } : {}).then((issued) => issued.accessToken)
}

function assertProblem(answer: HttpAnswer, status: number, type: string, title: string, detail: string): void {
  assert.deepEqual({ status: answer.status, contentType: answer.headers.get('content-type'), body: answer.body }, { status, contentType: PROBLEM, body: { type: `urn:gatehouse:problem:${type}`, title, status, detail } })
}

/** Strips the values that differ per run (times, generated ids) so whole answers can be compared. */
function stable(record: unknown, ...keys: string[]): Record<string, unknown> {
  const copy = { ...(record as Record<string, unknown>) }
  for (const key of ['created_at', 'updated_at', ...keys]) if (key in copy) copy[key] = `<${key}>`
  return copy
}

describe('management API', () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 12, 0, 0))
  let server: TestServer
  let admin: string
  let auth: Record<string, string>
  const api = (path: string): string => `${server.url}/admin/v1${path}`

  before(async () => {
    server = await startTestServer({ clock })
    admin = await operatorToken(server)
    auth = { authorization: `Bearer ${admin}` }
  })
  after(() => server.close())

  describe('authorization', () => {
    it('answers 401 with a bare Bearer challenge when no token is sent (RFC 6750 §3.1)', async () => {
      const answer = await request(api('/clients'))
      assertProblem(answer, 401, 'unauthorized', 'Unauthorized', `A bearer token for the audience ${server.config.issuer}/admin/v1 is required.`)
      assert.equal(answer.headers.get('www-authenticate'), 'Bearer realm="gatehouse"')
    })

    it('answers another scheme like no credentials: 401 with a bare challenge and no error code (RFC 6750 §3)', async () => {
      const answer = await request(api('/clients'), { headers: { authorization: 'Basic dXNlcjpwYXNz' } })
      assertProblem(answer, 401, 'unauthorized', 'Unauthorized', `A bearer token for the audience ${server.config.issuer}/admin/v1 is required.`)
      assert.equal(answer.headers.get('www-authenticate'), 'Bearer realm="gatehouse"')
    })

    it('answers a malformed Bearer header with 400 invalid_request (RFC 6750 §3.1)', async () => {
      for (const authorization of ['Bearer a b', 'Bearer', 'Bearer "quoted"']) {
        const answer = await request(api('/clients'), { headers: { authorization } })
        assertProblem(answer, 400, 'validation', 'Invalid request', 'The Authorization header must be "Bearer <token>".')
        assert.equal(answer.headers.get('www-authenticate'), 'Bearer realm="gatehouse", error="invalid_request", error_description="malformed bearer token"')
      }
    })

    it('answers 401 invalid_token for an expired token, saying when it expired', async () => {
      const shortLived = await operatorToken(server, 60)
      assert.equal((await request(api('/clients'), { headers: { authorization: `Bearer ${shortLived}` } })).status, 200)
      const expiredAt = new Date(Math.floor(clock.now() / 1000) * 1000 + 60_000).toISOString()
      clock.advance(61_000)
      const answer = await request(api('/clients'), { headers: { authorization: `Bearer ${shortLived}` } })
      assertProblem(answer, 401, 'unauthorized', 'Unauthorized', `The access token expired at ${expiredAt}.`)
      assert.equal(answer.headers.get('www-authenticate'), `Bearer realm="gatehouse", error="invalid_token", error_description="The access token expired at ${expiredAt}."`)
    })

    it('answers 401 for a forged token: its signature does not verify', async () => {
      const [header, payload] = admin.split('.')
      const answer = await request(api('/clients'), { headers: { authorization: `Bearer ${header}.${payload}.AAAA` } })
      assertProblem(answer, 401, 'unauthorized', 'Unauthorized', 'The access token signature does not verify.')
    })

    it('answers 401 for an opaque-looking token it never issued', async () => {
      const answer = await request(api('/clients'), { headers: { authorization: 'Bearer sk-0123456789abcdefghijklmnopqrstuvwxyzABCDEFG' } })
      assertProblem(answer, 401, 'unauthorized', 'Unauthorized', 'The access token is not a token of this Gatehouse.')
    })

    it('refuses a tenant token carrying the management-api scope: 401, wrong audience (issue 11)', async () => {
      // Seed 001's management-api is the platform's scope; the issuer's default audience is not the admin audience.
      const client = await server.createClient({ scopes: ['management-api', 'api'] })
      const token = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client })
      assert.deepEqual([token.status, (token.body as { scope: string }).scope], [200, 'api management-api'])
      const answer = await request(api('/clients'), { headers: { authorization: `Bearer ${(token.body as { access_token: string }).access_token}` } })
      const detail = `The access token is for the audience ${server.config.issuer}; the management API accepts only ${server.config.issuer}/admin/v1.`
      assertProblem(answer, 401, 'unauthorized', 'Unauthorized', detail)
      assert.equal(answer.headers.get('www-authenticate'), `Bearer realm="gatehouse", error="invalid_token", error_description="${detail}"`)
    })

    it('accepts an operator client token asked for with audience=, and refuses it once revoked', async () => {
      const client = await server.createClient({ scopes: ['api'] })
      await server.server.gatehouse.operators.put('client', client.id, 'admin')
      const token = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', audience: `${server.config.issuer}/admin/v1` }, basic: client })
      const accessToken = (token.body as { access_token: string }).access_token
      assert.equal((await request(api('/signing-keys'), { headers: { authorization: `Bearer ${accessToken}` } })).status, 200)
      assert.equal((await request(`${server.url}/oauth/revoke`, { form: { token: accessToken }, basic: client })).status, 200)
      assertProblem(await request(api('/signing-keys'), { headers: { authorization: `Bearer ${accessToken}` } }), 401, 'unauthorized', 'Unauthorized', 'The access token has been revoked.')
    })

    it('accepts an opaque operator token', async () => {
      const client = await server.createClient({ scopes: ['api'], tokenFormat: 'opaque' })
      await server.server.gatehouse.operators.put('client', client.id, 'read-only')
      const token = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', audience: `${server.config.issuer}/admin/v1` }, basic: client })
      const accessToken = (token.body as { access_token: string }).access_token
      assert.match(accessToken, /^sk-/)
      assert.equal((await request(api('/users'), { headers: { authorization: `Bearer ${accessToken}` } })).status, 200)
    })

    it('answers an unknown management path with a 404 problem', async () => {
      assertProblem(await request(api('/nope'), { headers: auth }), 404, 'not-found', 'Not found', 'No management operation GET /admin/v1/nope.')
    })
  })

  describe('clients', () => {
    it('creates a client and shows its secret once', async () => {
      const answer = await request(api('/clients'), {
        headers: auth,
        json: { name: 'Billing', client_id: 'billing', grant_types: ['client_credentials'], scopes: ['invoices:read'], audience: 'https://billing.example', token_format: 'opaque', access_token_ttl: 600 },
      })
      assert.equal(answer.status, 201)
      assert.equal(answer.headers.get('cache-control'), 'no-store')
      const body = answer.body as Record<string, unknown>
      assert.match(String(body.client_secret), /^[A-Za-z0-9_-]{43}$/)
      assert.deepEqual(stable(body, 'client_secret'), {
        client_id: 'billing',
        name: 'Billing',
        application_type: null,
        token_endpoint_auth_method: 'client_secret_basic',
        jwks: null,
        jwks_uri: null,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        post_logout_redirect_uris: [],
        require_par: false,
        require_dpop: false,
        resources: [],
        allow_impersonation: false,
        skip_consent: false,
        scopes: ['invoices:read'],
        default_scopes: [],
        audience: 'https://billing.example',
        token_format: 'opaque',
        signing_alg: 'ES256',
        access_token_ttl: 600,
        refresh_token_ttl: 2592000,
        refresh_token_sliding_ttl: 1296000,
        refresh_reuse_interval: 0,
        token_reuse_seconds: 0,
        rotate_refresh_tokens: true,
        allowed_users: null,
        created_at: '<created_at>',
        updated_at: '<updated_at>',
        client_secret: '<client_secret>',
      })
      const token = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id: 'billing', secret: String(body.client_secret) } })
      assert.equal(token.status, 200)
      const shown = await request(api('/clients/billing'), { headers: auth })
      assert.equal(shown.status, 200)
      assert.equal((shown.body as Record<string, unknown>).client_secret, undefined)
      const { client_secret: _secret, ...withoutSecret } = body
      assert.deepEqual(shown.body, withoutSecret)
    })

    it('refuses an invalid body with a 400 problem that names the field', async () => {
      assertProblem(await request(api('/clients'), { headers: auth, json: { grant_types: ['client_credentials'] } }), 400, 'validation', 'Invalid request', "body must have required property 'name'")
      assertProblem(await request(api('/clients'), { headers: auth, json: { name: 'x', token_format: 'paseto' } }), 400, 'validation', 'Invalid request', 'body/token_format must be equal to one of the allowed values')
      assertProblem(await request(api('/clients'), { headers: auth, json: { name: 'x', default_scopes: ['b'], scopes: ['a'] } }), 400, 'validation', 'Invalid request', 'default scope "b" is not among the client\'s scopes')
      assertProblem(await request(api('/clients'), { headers: auth, raw: { contentType: 'application/json', body: '{"name":' } }), 400, 'validation', 'Invalid request', 'The request could not be read: send a JSON body with content-type application/json.')
    })

    it('takes signing_alg RS256 on create and update, signs its tokens RS256, and refuses any other algorithm', async () => {
      const created = await request(api('/clients'), { headers: auth, json: { name: 'Legacy verifier', client_id: 'legacy-rs', signing_alg: 'RS256' } })
      assert.equal(created.status, 201)
      const body = created.body as Record<string, unknown>
      assert.equal(body.signing_alg, 'RS256')
      const issue = async (): Promise<string> =>
        ((await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id: 'legacy-rs', secret: String(body.client_secret) } })).body as { access_token: string }).access_token
      const header = (token: string): unknown => JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'))
      assert.equal((header(await issue()) as { alg: string }).alg, 'RS256')
      const updated = await request(api('/clients/legacy-rs'), { method: 'PATCH', headers: auth, json: { signing_alg: 'ES256' } })
      assert.deepEqual([updated.status, (updated.body as Record<string, unknown>).signing_alg], [200, 'ES256'])
      assert.equal((header(await issue()) as { alg: string }).alg, 'ES256')
      for (const alg of ['HS256', 'none', 'rs256']) {
        assertProblem(await request(api('/clients'), { headers: auth, json: { name: 'x', signing_alg: alg } }), 400, 'validation', 'Invalid request', 'body/signing_alg must be equal to one of the allowed values')
      }
    })

    it('refuses a taken client id with 409', async () => {
      await request(api('/clients'), { headers: auth, json: { name: 'Twice', client_id: 'twice' } })
      assertProblem(await request(api('/clients'), { headers: auth, json: { name: 'Twice', client_id: 'twice' } }), 409, 'conflict', 'Conflict', 'client twice already exists')
    })

    it('lists clients in pages', async () => {
      for (const id of ['page-a', 'page-b', 'page-c']) await request(api('/clients'), { headers: auth, json: { name: id, client_id: id } })
      const first = await request(api('/clients?limit=2&after=page-'), { headers: auth })
      assert.equal(first.status, 200)
      const body = first.body as { clients: { client_id: string }[]; next_after: string | null }
      assert.deepEqual({ ids: body.clients.map((c) => c.client_id), next: body.next_after }, { ids: ['page-a', 'page-b'], next: 'page-b' })
      const second = (await request(api('/clients?limit=2&after=page-b'), { headers: auth })).body as { clients: { client_id: string }[]; next_after: string | null }
      assert.deepEqual(second.clients[0]?.client_id, 'page-c')
      assertProblem(await request(api('/clients?limit=0'), { headers: auth }), 400, 'validation', 'Invalid request', 'querystring/limit must be >= 1')
    })

    it('updates only the fields sent, and the change applies to the next token at once', async () => {
      const created = (await request(api('/clients'), { headers: auth, json: { name: 'Changing', scopes: ['a'] } })).body as { client_id: string; client_secret: string }
      const answer = await request(api(`/clients/${created.client_id}`), { method: 'PATCH', headers: auth, json: { scopes: ['a', 'b'], access_token_ttl: 120 } })
      assert.equal(answer.status, 200)
      const body = answer.body as Record<string, unknown>
      assert.deepEqual([body.name, body.scopes, body.access_token_ttl], ['Changing', ['a', 'b'], 120])
      const token = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', scope: 'b' }, basic: { id: created.client_id, secret: created.client_secret } })
      assert.deepEqual([token.status, (token.body as Record<string, unknown>).expires_in], [200, 120])
      assertProblem(await request(api('/clients/none'), { method: 'PATCH', headers: auth, json: { name: 'x' } }), 404, 'not-found', 'Not found', 'No client with id none.')
      assertProblem(await request(api(`/clients/${created.client_id}`), { method: 'PATCH', headers: auth, json: {} }), 400, 'validation', 'Invalid request', 'body must NOT have fewer than 1 properties')
    })

    it('rotates a secret: the old one is refused at once, the new one works', async () => {
      const created = (await request(api('/clients'), { headers: auth, json: { name: 'Rotating' } })).body as { client_id: string; client_secret: string }
      const rotated = await request(api(`/clients/${created.client_id}/secret`), { method: 'POST', headers: auth })
      assert.equal(rotated.status, 200)
      const body = rotated.body as { client_id: string; client_secret: string }
      assert.deepEqual(Object.keys(body), ['client_id', 'client_secret'])
      assert.notEqual(body.client_secret, created.client_secret)
      const old = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id: created.client_id, secret: created.client_secret } })
      assert.equal(old.status, 401)
      const fresh = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id: created.client_id, secret: body.client_secret } })
      assert.equal(fresh.status, 200)
      assertProblem(await request(api('/clients/none/secret'), { method: 'POST', headers: auth }), 404, 'not-found', 'Not found', 'No client with id none.')
    })

    it('deletes a client: 204, then 404, and its secret stops working', async () => {
      const created = (await request(api('/clients'), { headers: auth, json: { name: 'Leaving' } })).body as { client_id: string; client_secret: string }
      const deleted = await request(api(`/clients/${created.client_id}`), { method: 'DELETE', headers: auth })
      assert.deepEqual([deleted.status, deleted.text], [204, ''])
      assertProblem(await request(api(`/clients/${created.client_id}`), { headers: auth }), 404, 'not-found', 'Not found', `No client with id ${created.client_id}.`)
      assertProblem(await request(api(`/clients/${created.client_id}`), { method: 'DELETE', headers: auth }), 404, 'not-found', 'Not found', `No client with id ${created.client_id}.`)
      const token = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id: created.client_id, secret: created.client_secret } })
      assert.equal(token.status, 401)
    })
  })

  describe('clients that sign people in (issue 13)', () => {
    const spa = { name: 'Storefront', token_endpoint_auth_method: 'none', application_type: 'spa', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: ['https://shop.example.com/cb', 'http://127.0.0.1:5173/cb'], scopes: ['openid'] }

    it('creates a public client: 201 without a client_secret member, and the new fields in every answer', async () => {
      const answer = await request(api('/clients'), { headers: auth, json: { ...spa, client_id: 'storefront', post_logout_redirect_uris: ['https://shop.example.com/'], require_par: true } })
      assert.equal(answer.status, 201, answer.text)
      assert.equal(answer.headers.get('cache-control'), 'no-store')
      const body = answer.body as Record<string, unknown>
      assert.equal('client_secret' in body, false)
      assert.doesNotMatch(answer.text, /client_secret/)
      assert.deepEqual(stable(body), {
        client_id: 'storefront',
        name: 'Storefront',
        application_type: 'spa',
        token_endpoint_auth_method: 'none',
        jwks: null,
        jwks_uri: null,
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: ['https://shop.example.com/cb', 'http://127.0.0.1:5173/cb'],
        post_logout_redirect_uris: ['https://shop.example.com/'],
        require_par: true,
        require_dpop: false,
        resources: [],
        allow_impersonation: false,
        skip_consent: false,
        scopes: ['openid'],
        default_scopes: [],
        audience: null,
        token_format: 'jwt',
        signing_alg: 'ES256',
        access_token_ttl: 3600,
        refresh_token_ttl: 2592000,
        refresh_token_sliding_ttl: 1296000,
        refresh_reuse_interval: 0,
        token_reuse_seconds: 0,
        rotate_refresh_tokens: true,
        allowed_users: null,
        created_at: '<created_at>',
        updated_at: '<updated_at>',
      })
      assert.deepEqual((await request(api('/clients/storefront'), { headers: auth })).body, body)
      const listed = (await request(api('/clients?after=storefronr&limit=1'), { headers: auth })).body as { clients: unknown[] }
      assert.deepEqual(listed.clients, [body])
    })

    it('updates the new fields; a list replaces the list; public and confidential cannot be swapped', async () => {
      await request(api('/clients'), { headers: auth, json: { ...spa, client_id: 'spa-changing' } })
      const patched = await request(api('/clients/spa-changing'), { method: 'PATCH', headers: auth, json: { redirect_uris: ['com.example.shop:/callback'], post_logout_redirect_uris: ['com.example.shop:/bye'], skip_consent: true, require_par: true, application_type: 'native' } })
      assert.equal(patched.status, 200, patched.text)
      const body = patched.body as Record<string, unknown>
      assert.deepEqual([body.redirect_uris, body.post_logout_redirect_uris, body.skip_consent, body.require_par, body.application_type], [['com.example.shop:/callback'], ['com.example.shop:/bye'], true, true, 'native'])
      const cleared = (await request(api('/clients/spa-changing'), { method: 'PATCH', headers: auth, json: { application_type: null, post_logout_redirect_uris: [] } })).body as Record<string, unknown>
      assert.deepEqual([cleared.application_type, cleared.post_logout_redirect_uris, cleared.redirect_uris], [null, [], ['com.example.shop:/callback']])
      for (const method of ['client_secret_basic', 'client_secret_post']) {
        assertProblem(await request(api('/clients/spa-changing'), { method: 'PATCH', headers: auth, json: { token_endpoint_auth_method: method } }), 400, 'validation', 'Invalid request', 'a client cannot change between public (auth method none) and confidential; create a new client')
      }
      // Between the two secret methods is fine.
      const confidential = (await request(api('/clients'), { headers: auth, json: { name: 'Portal', grant_types: ['authorization_code'], redirect_uris: ['https://portal.example.com/cb'] } })).body as Record<string, unknown>
      const post = await request(api(`/clients/${String(confidential.client_id)}`), { method: 'PATCH', headers: auth, json: { token_endpoint_auth_method: 'client_secret_post' } })
      assert.deepEqual([post.status, (post.body as Record<string, unknown>).token_endpoint_auth_method], [200, 'client_secret_post'])
      assertProblem(await request(api(`/clients/${String(confidential.client_id)}`), { method: 'PATCH', headers: auth, json: { token_endpoint_auth_method: 'none' } }), 400, 'validation', 'Invalid request', 'a client cannot change between public (auth method none) and confidential; create a new client')
      assertProblem(await request(api(`/clients/${String(confidential.client_id)}`), { method: 'PATCH', headers: auth, json: { redirect_uris: [] } }), 400, 'validation', 'Invalid request', 'the authorization_code grant needs at least one redirect URI')
    })

    it('answers rotate-secret for a public client with a 400 problem', async () => {
      await request(api('/clients'), { headers: auth, json: { ...spa, client_id: 'spa-rotating' } })
      assertProblem(await request(api('/clients/spa-rotating/secret'), { method: 'POST', headers: auth }), 400, 'validation', 'Invalid request', 'client spa-rotating is a public client (auth method none): it has no secret to rotate')
      assertProblem(await request(api('/clients/spa-rotating/secret?revoke_tokens=true'), { method: 'POST', headers: auth }), 400, 'validation', 'Invalid request', 'client spa-rotating is a public client (auth method none): it has no secret to rotate')
    })

    it('refuses bad redirect URIs with a 400 problem that says why', async () => {
      for (const [uri, detail] of [
        ['javascript:alert(1)', 'redirect URI scheme javascript: is not allowed'],
        ['http://evil.example/cb', 'redirect URI http://evil.example/cb must use https (http only on a loopback address, RFC 8252 §7.3)'],
        ['https://a.example/cb#frag', 'redirect URI https://a.example/cb#frag must not have a fragment (RFC 6749 §3.1.2)'],
        ['/cb', 'redirect URI "/cb" is not an absolute URI'],
        ['https://a.example/\u0007cb', 'redirect URI "https://a.example/\\u0007cb" must not contain control characters'],
        // A NUL anywhere in a request is refused before any route (src/http/app.ts).
        ['https://a.example/\u0000cb', 'The request contains a NUL character.'],
        ['myapp:/cb', 'a private-use redirect URI scheme must be a reversed domain name such as com.example.app (RFC 8252 §7.1), not myapp:'],
      ] as const) {
        assertProblem(await request(api('/clients'), { headers: auth, json: { ...spa, redirect_uris: [uri] } }), 400, 'validation', 'Invalid request', detail)
        assertProblem(await request(api('/clients'), { headers: auth, json: { ...spa, post_logout_redirect_uris: [uri] } }), 400, 'validation', 'Invalid request', detail)
      }
      assertProblem(await request(api('/clients'), { headers: auth, json: { ...spa, redirect_uris: [] } }), 400, 'validation', 'Invalid request', 'the authorization_code grant needs at least one redirect URI')
      assertProblem(await request(api('/clients'), { headers: auth, json: { ...spa, redirect_uris: [''] } }), 400, 'validation', 'Invalid request', 'body/redirect_uris/0 must NOT have fewer than 1 characters')
      assertProblem(await request(api('/clients'), { headers: auth, json: { ...spa, redirect_uris: Array.from({ length: 101 }, (_, i) => `https://a.example/${i}`) } }), 400, 'validation', 'Invalid request', 'body/redirect_uris must NOT have more than 100 items')
    })

    it('refuses a public client with client_credentials or password, and unknown values, with 400 problems', async () => {
      for (const grant of ['client_credentials', 'password', 'api_key']) {
        assertProblem(
          await request(api('/clients'), { headers: auth, json: { ...spa, grant_types: ['authorization_code', grant] } }),
          400,
          'validation',
          'Invalid request',
          `a public client (auth method none) may use only authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:device_code, not ${grant}`,
        )
      }
      // Without grant_types a client gets client_credentials.
      assertProblem(await request(api('/clients'), { headers: auth, json: { name: 'x', token_endpoint_auth_method: 'none' } }), 400, 'validation', 'Invalid request', 'a public client (auth method none) may use only authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:device_code, not client_credentials')
      const refusedBySchema: [Record<string, unknown>, string][] = [
        [{ token_endpoint_auth_method: 'client_secret_jwt' }, 'body/token_endpoint_auth_method must be equal to one of the allowed values'],
        [{ application_type: 'desktop' }, 'body/application_type must be equal to one of the allowed values'],
        [{ grant_types: ['device_code'] }, 'body/grant_types/0 must be equal to one of the allowed values'],
        [{ require_par: 'yes' }, 'body/require_par must be boolean'],
        [{ skip_consent: 1 }, 'body/skip_consent must be boolean'],
        [{ redirect_uris: 'https://shop.example.com/cb' }, 'body/redirect_uris must be array'],
        [{ redirect_uris: [42] }, 'body/redirect_uris/0 must be string'],
        // Exact JSON types across the body: no coercion of "600" to 600 either.
        [{ access_token_ttl: '600' }, 'body/access_token_ttl must be integer'],
        [{ application_type: false }, 'body/application_type must be string,null'],
      ]
      for (const [fields, detail] of refusedBySchema) assertProblem(await request(api('/clients'), { headers: auth, json: { ...spa, ...fields } }), 400, 'validation', 'Invalid request', detail)
      // Members the schema does not know are dropped (Fastify's removeAdditional), not refused: a
      // client_secret sent along gives a public client no secret.
      const smuggled = await request(api('/clients'), { headers: auth, json: { ...spa, client_id: 'spa-smuggled', client_secret: 'mine-mine-mine' } })
      assert.equal(smuggled.status, 201)
      assert.equal('client_secret' in (smuggled.body as Record<string, unknown>), false)
      const tried = await request(`${server.url}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: 'x' }, basic: { id: 'spa-smuggled', secret: 'mine-mine-mine' } })
      assert.deepEqual([tried.status, (tried.body as Record<string, unknown>).error], [401, 'invalid_client'])
    })

    it('refuses a NUL byte anywhere (PostgreSQL text cannot hold one) with a 400 problem, and control characters in new ids and names', async () => {
      for (const [method, path] of [['GET', '/clients/a%00b'], ['PATCH', '/clients/a%00b'], ['DELETE', '/clients/a%00b'], ['POST', '/clients/a%00b/secret']] as const) {
        const answer = await request(api(path), { method, headers: auth, ...(method === 'PATCH' ? { json: { name: 'x' } } : {}) })
        assertProblem(answer, 400, 'validation', 'Invalid request', 'The request contains a NUL character.')
      }
      assertProblem(await request(api('/clients'), { headers: auth, json: { name: 'x', client_id: 'a\u0000b' } }), 400, 'validation', 'Invalid request', 'The request contains a NUL character.')
      for (const fields of [{ client_id: 'tab\there' }, { name: 'line\nbreak' }]) {
        assertProblem(await request(api('/clients'), { headers: auth, json: { name: 'x', ...fields } }), 400, 'validation', 'Invalid request', 'client id and name must not contain control characters')
      }
    })

    it('stores the device grant by its URN', async () => {
      const answer = await request(api('/clients'), { headers: auth, json: { name: 'TV', token_endpoint_auth_method: 'none', application_type: 'device', grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'] } })
      assert.equal(answer.status, 201, answer.text)
      assert.deepEqual((answer.body as Record<string, unknown>).grant_types, ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'])
    })

    it('at /oauth/token: a public client naming itself gets unauthorized_client for client_credentials; a confidential one without its secret gets invalid_client', async () => {
      await request(api('/clients'), { headers: auth, json: { ...spa, client_id: 'spa-token' } })
      const strip = (answer: HttpAnswer) => ({ status: answer.status, body: answer.body, authenticate: answer.headers.get('www-authenticate') })
      // The public client is identified by its client_id (RFC 6749 §2.1), then refused the grant it does not have (§5.2).
      const publicClient = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', client_id: 'spa-token' } })
      assert.deepEqual(strip(publicClient), { status: 400, body: { error: 'unauthorized_client', error_description: 'This client may not use the client_credentials grant.' }, authenticate: null })
      const password = await request(`${server.url}/oauth/token`, { form: { grant_type: 'password', client_id: 'spa-token', username: 'a@example.com', password: 'x' } })
      assert.deepEqual(strip(password), { status: 400, body: { error: 'unauthorized_client', error_description: 'This client may not use the password grant.' }, authenticate: null })
      // No secret ever authenticates a public client.
      const withSecret = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id: 'spa-token', secret: '' } })
      assert.equal(withSecret.status, 401)
      assert.equal((withSecret.body as Record<string, unknown>).error, 'invalid_client')

      const confidential = (await request(api('/clients'), { headers: auth, json: { name: 'Server', client_id: 'secret-kept' } })).body as Record<string, unknown>
      assert.match(String(confidential.client_secret), /^[A-Za-z0-9_-]{43}$/)
      const idOnly = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', client_id: 'secret-kept' } })
      const unknown = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', client_id: 'no-such-client' } })
      assert.deepEqual([idOnly.status, idOnly.body], [401, { error: 'invalid_client', error_description: 'Client authentication is required.' }])
      // The same answer as for a client id that does not exist: it does not tell which ids do.
      assert.deepEqual(strip(idOnly), strip(unknown))
    })
  })

  describe('API keys', () => {
    it('refuses an expires_in past 10 years with a 400 problem, and listings keep working', async () => {
      for (const expires_in of [1e20, 315_360_001]) {
        assertProblem(await request(api('/api-keys'), { headers: auth, json: { name: 'forever', expires_in } }), 400, 'validation', 'Invalid request', 'body/expires_in must be <= 315360000')
      }
      const longest = await request(api('/api-keys'), { headers: auth, json: { name: 'ten years', expires_in: 315_360_000 } })
      assert.equal(longest.status, 201, longest.text)
      assert.equal((await request(api('/api-keys'), { headers: auth })).status, 200)
    })

    it('creates a key shown once, lists and shows it, and revokes it', async () => {
      const created = await request(api('/api-keys'), { headers: auth, json: { name: 'CI pipeline', scopes: ['deploy'] } })
      assert.equal(created.status, 201)
      const body = created.body as Record<string, unknown>
      assert.match(String(body.api_key), /^[0-9A-F]{6}:[A-Za-z0-9+/]{43}=$/)
      assert.equal(String(body.api_key).split(':')[0], body.id)
      assert.deepEqual(stable(body, 'api_key', 'id', 'client_id'), {
        id: '<id>',
        name: 'CI pipeline',
        client_id: '<client_id>',
        scopes: ['deploy'],
        audience: null,
        expires_at: null,
        revoked_at: null,
        created_at: '<created_at>',
        api_key: '<api_key>',
      })
      const listed = (await request(api(`/api-keys?client_id=${String(body.client_id)}`), { headers: auth })).body as { api_keys: Record<string, unknown>[]; next_after: null }
      assert.deepEqual(listed, { api_keys: [Object.fromEntries(Object.entries(body).filter(([key]) => key !== 'api_key'))], next_after: null })
      const shown = await request(api(`/api-keys/${String(body.id)}`), { headers: auth })
      assert.deepEqual(shown.body, listed.api_keys[0])
      const revoked = await request(api(`/api-keys/${String(body.id)}/revoke`), { method: 'POST', headers: auth })
      assert.equal(revoked.status, 200)
      assert.equal((revoked.body as Record<string, unknown>).revoked_at, new Date(clock.now()).toISOString())
      assertProblem(await request(api('/api-keys/ABCDEF/revoke'), { method: 'POST', headers: auth }), 404, 'not-found', 'Not found', 'No API key with id ABCDEF.')
      assertProblem(await request(api('/api-keys/ABCDEF'), { headers: auth }), 404, 'not-found', 'Not found', 'No API key with id ABCDEF.')
    })

    it('refuses a key for a client that does not allow the api_key grant', async () => {
      const client = await server.createClient({ grantTypes: ['client_credentials'] })
      const answer = await request(api('/api-keys'), { headers: auth, json: { name: 'nope', client_id: client.id } })
      assert.equal(answer.status, 400)
      assert.equal((answer.body as Record<string, unknown>).type, 'urn:gatehouse:problem:validation')
    })
  })

  describe('users', () => {
    it('creates, lists, disables, enables a user and sets a password', async () => {
      const client = await server.createClient({ grantTypes: ['password'] })
      const created = await request(api('/users'), { headers: auth, json: { username: 'Grace@Example.com', password: 'first-password', name: 'Grace' } })
      assert.equal(created.status, 201)
      const user = created.body as Record<string, unknown>
      assert.deepEqual(stable(user, 'id'), { id: '<id>', username: 'grace@example.com', name: 'Grace', email: 'grace@example.com', disabled: false, created_at: '<created_at>' })
      assertProblem(await request(api('/users'), { headers: auth, json: { username: 'grace@example.com', password: 'first-password' } }), 409, 'conflict', 'Conflict', 'user grace@example.com already exists')
      assertProblem(await request(api('/users'), { headers: auth, json: { username: 'x@example.com', password: 'short' } }), 400, 'validation', 'Invalid request', 'body/password must NOT have fewer than 8 characters')

      const listed = (await request(api('/users'), { headers: auth })).body as { users: Record<string, unknown>[] }
      assert.ok(listed.users.some((entry) => entry.id === user.id))

      const login = (password: string) => request(`${server.url}/oauth/token`, { form: { grant_type: 'password', username: 'grace@example.com', password }, basic: client })
      assert.equal((await login('first-password')).status, 200)
      const disabled = await request(api(`/users/${String(user.id)}/disable`), { method: 'POST', headers: auth })
      assert.deepEqual([disabled.status, (disabled.body as Record<string, unknown>).disabled], [200, true])
      assert.equal((await login('first-password')).status, 400)
      const enabled = await request(api('/users/grace@example.com/enable'), { method: 'POST', headers: auth })
      assert.deepEqual([enabled.status, (enabled.body as Record<string, unknown>).disabled], [200, false])

      const changed = await request(api(`/users/${String(user.id)}/password`), { method: 'PUT', headers: auth, json: { password: 'second-password' } })
      assert.deepEqual([changed.status, changed.text], [204, ''])
      assert.equal((await login('first-password')).status, 400)
      assert.equal((await login('second-password')).status, 200)
      assertProblem(await request(api('/users/nobody/disable'), { method: 'POST', headers: auth }), 404, 'not-found', 'Not found', 'No user nobody.')
      const shown = await request(api(`/users/${String(user.id)}`), { headers: auth })
      assert.deepEqual(shown.body, { ...user, disabled: false })
    })
  })

  describe('signing keys', () => {
    it('lists keys and rotates: the new key is active, the old one stays published', async () => {
      const before = (await request(api('/signing-keys'), { headers: auth })).body as { keys: Record<string, unknown>[] }
      const active = before.keys.filter((key) => key.active)
      assert.deepEqual(active.map((key) => key.alg).sort(), ['ES256', 'RS256'])
      assert.deepEqual(Object.keys(before.keys[0] ?? {}).sort(), ['active', 'alg', 'created_at', 'kid', 'published', 'retired_at'])
      const rotated = await request(api('/signing-keys/rotate'), { method: 'POST', headers: auth })
      assert.equal(rotated.status, 201)
      const fresh = (rotated.body as { keys: Record<string, unknown>[] }).keys
      assert.deepEqual(
        fresh.map((key) => stable(key, 'kid')),
        ['ES256', 'RS256'].map((alg) => ({ kid: '<kid>', alg, active: true, published: true, created_at: '<created_at>', retired_at: null })),
      )
      const after = (await request(api('/signing-keys'), { headers: auth })).body as { keys: Record<string, unknown>[] }
      for (const previous of active) {
        const old = after.keys.find((key) => key.kid === previous.kid)
        assert.deepEqual([old?.active, old?.published], [false, true])
      }
      const jwks = (await request(`${server.url}/.well-known/jwks.json`)).body as { keys: { kid: string }[] }
      assert.ok(fresh.every((key) => jwks.keys.some((published) => published.kid === key.kid)))
    })

    it('rotates only the key of the alg asked for, and refuses an algorithm it does not sign with', async () => {
      const rotated = await request(api('/signing-keys/rotate'), { method: 'POST', headers: auth, json: { alg: 'RS256' } })
      assert.equal(rotated.status, 201)
      const fresh = (rotated.body as { keys: Record<string, unknown>[] }).keys
      assert.deepEqual(fresh.map((key) => [key.alg, key.active]), [['RS256', true]])
      const listed = (await request(api('/signing-keys'), { headers: auth })).body as { keys: Record<string, unknown>[] }
      assert.deepEqual(listed.keys.filter((key) => key.active).map((key) => key.alg).sort(), ['ES256', 'RS256'])
      assertProblem(await request(api('/signing-keys/rotate'), { method: 'POST', headers: auth, json: { alg: 'HS256' } }), 400, 'validation', 'Invalid request', 'body/alg must be equal to one of the allowed values')
    })
  })

  describe('audit events', () => {
    it('records every management change with the operator, newest first, filterable and paged, never a secret', async () => {
      const created = (await request(api('/clients'), { headers: auth, json: { name: 'Audited', client_id: 'audited' } })).body as { client_secret: string }
      await request(api('/clients/audited/secret'), { method: 'POST', headers: auth })
      const answer = await request(api('/audit-events?target=client:audited'), { headers: auth })
      assert.equal(answer.status, 200)
      const body = answer.body as { events: Record<string, unknown>[]; next_cursor: string | null }
      assert.deepEqual(
        body.events.map((event) => stable(event, 'id')),
        [
          { id: '<id>', at: new Date(clock.now()).toISOString(), actor: 'client:gatehouse-operator', action: 'client.secret_rotated', target: 'client:audited', ip: '127.0.0.1', details: {} },
          { id: '<id>', at: new Date(clock.now()).toISOString(), actor: 'client:gatehouse-operator', action: 'client.created', target: 'client:audited', ip: '127.0.0.1', details: { name: 'Audited', grant_types: ['client_credentials'], scopes: [] } },
        ],
      )
      assert.equal(body.next_cursor, null)
      const all = await request(api('/audit-events?limit=500'), { headers: auth })
      assert.doesNotMatch(all.text, new RegExp(created.client_secret))
      assert.doesNotMatch(all.text, /first-password|second-password/)
    })

    it('filters by actor, action and time, and pages with a cursor', async () => {
      clock.advance(600_000)
      const start = new Date(clock.now()).toISOString()
      for (const name of ['one', 'two', 'three']) {
        await request(api('/clients'), { headers: auth, json: { name } })
        clock.advance(1000)
      }
      const query = `action=client.created&actor=client:gatehouse-operator&from=${start}`
      const first = (await request(api(`/audit-events?${query}&limit=2`), { headers: auth })).body as { events: { details: { name: string } }[]; next_cursor: string }
      assert.deepEqual(first.events.map((event) => event.details.name), ['three', 'two'])
      const second = (await request(api(`/audit-events?${query}&limit=2&cursor=${first.next_cursor}`), { headers: auth })).body as { events: { details: { name: string } }[]; next_cursor: string | null }
      assert.deepEqual([second.events.map((event) => event.details.name), second.next_cursor], [['one'], null])
      const before = (await request(api(`/audit-events?${query}&to=${new Date(Date.parse(start) + 1000).toISOString()}`), { headers: auth })).body as { events: { details: { name: string } }[] }
      assert.deepEqual(before.events.map((event) => event.details.name), ['one'])
      const nobody = (await request(api('/audit-events?actor=client:nobody'), { headers: auth })).body
      assert.deepEqual(nobody, { events: [], next_cursor: null })
      assertProblem(await request(api('/audit-events?from=yesterday'), { headers: auth }), 400, 'validation', 'Invalid request', 'querystring/from must match format "date-time"')
      assertProblem(await request(api('/audit-events?cursor=zz'), { headers: auth }), 400, 'validation', 'Invalid request', 'cursor is not a next_cursor this API gave.')
    })

    it('records a failed management authorization (without the token)', async () => {
      await request(api('/api-keys/FFFFFF'), { headers: { authorization: 'Bearer not.a.token' } })
      // Failures are written in background batches: flush the queue before reading.
      await server.server.gatehouse.audit.flush()
      const events = ((await request(api('/audit-events?action=management.authorization_failed&limit=1'), { headers: auth })).body as { events: { details: Record<string, unknown> }[] }).events
      assert.deepEqual(events.map((event) => event.details), [{ path: '/admin/v1/api-keys/FFFFFF', reason: 'The access token is malformed.' }])
    })
  })
})

function cli(server: TestServer, args: string[]): Promise<CliResult> {
  const env = { GATEHOUSE_DATABASE_URL: server.database.url, GATEHOUSE_DATA_DIR: server.database.dataDir, GATEHOUSE_SECRET: server.config.secret ?? '', GATEHOUSE_ISSUER: server.config.issuer }
  return runCli(args, { env })
}

describe('gatehouse admin create-token', () => {
  it('records CLI changes in the audit log with actor cli', async () => {
    const server = await startTestServer()
    try {
      const created = await cli(server, ['clients', 'create', '--name', 'from the shell', '--client-id', 'shell', '--json'])
      assert.equal(created.code, 0, created.stderr)
      assert.equal((await cli(server, ['clients', 'rotate-secret', 'shell', '--json'])).code, 0)
      assert.equal((await cli(server, ['keys', 'rotate', '--json'])).code, 0)
      const events = await server.server.gatehouse.audit.list({ limit: 10, actor: 'cli' })
      assert.deepEqual(
        events.map((event) => [event.action, event.target?.split(':')[0], event.ip]),
        [
          // One event per new key: ES256 and RS256.
          ['signing_key.rotated', 'signing_key', null],
          ['signing_key.rotated', 'signing_key', null],
          ['client.secret_rotated', 'client', null],
          ['client.created', 'client', null],
        ],
      )
      assert.doesNotMatch(JSON.stringify(events), new RegExp(String((JSON.parse(created.stdout) as { client_secret: string }).client_secret)))
    } finally {
      await server.close()
    }
  })

  it('creates the operator client once, puts it on the operator list and prints a working management token', async () => {
    const server = await startTestServer()
    try {
      const run = (): Promise<CliResult> => cli(server, ['admin', 'create-token', '--ttl', '600', '--json'])
      for (let i = 0; i < 2; i++) {
        const result = await run()
        assert.equal(result.code, 0, result.stderr)
        const printed = JSON.parse(result.stdout) as Record<string, unknown>
        const issuer = server.config.issuer
        assert.deepEqual({ ...printed, access_token: typeof printed.access_token }, { access_token: 'string', token_type: 'Bearer', expires_in: 600, client_id: 'gatehouse-operator', role: 'admin', issuer, audience: `${issuer}/admin/v1` })
        assert.deepEqual((await server.server.gatehouse.operators.list()).map((entry) => [entry.kind, entry.id, entry.role]), [['client', 'gatehouse-operator', 'admin']])
        const answer = await request(`${server.url}/admin/v1/clients`, { headers: { authorization: `Bearer ${String(printed.access_token)}` } })
        assert.equal(answer.status, 200)
        assert.deepEqual((answer.body as { clients: { client_id: string }[] }).clients.map((c) => c.client_id), ['gatehouse-operator'])
      }
    } finally {
      await server.close()
    }
  })
})
