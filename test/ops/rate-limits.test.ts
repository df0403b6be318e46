import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ManualClock } from '../../src/core/clock.js'
import { request, type HttpAnswer } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/** Status, the headers a limit sets, and the body: the whole answer minus date and request id. */
function limitAnswer(answer: HttpAnswer): { status: number; headers: Record<string, string | null>; body: unknown } {
  const headers: Record<string, string | null> = {}
  for (const name of ['retry-after', 'cache-control', 'pragma', 'content-type']) headers[name] = answer.headers.get(name)
  return { status: answer.status, headers, body: answer.body }
}

const OAUTH_429 = { error: 'rate_limited', error_description: 'Too many requests; retry later.' }
const JSON_TYPE = 'application/json; charset=utf-8'

describe('rate limits per source address, in every dialect', () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1))
  let server: TestServer
  let client: { id: string; secret: string }
  let apiKey: string

  before(async () => {
    // 3 requests a minute: a bucket of 3 that refills one point every 20 s.
    server = await startTestServer({ clock, env: { GATEHOUSE_RATE_LIMIT_IP: '3/1m' } })
    client = await server.createClient({ grantTypes: ['client_credentials', 'password', 'refresh_token', 'api_key'] })
    apiKey = (await server.server.gatehouse.apiKeys.create({ name: 'limits', clientId: client.id, scopes: ['api'] })).apiKey
  })
  after(() => server.close())

  /** Three answers go through, the fourth is refused; then a fresh minute for the next dialect. */
  async function fourth(send: () => Promise<HttpAnswer>): Promise<HttpAnswer> {
    for (let i = 0; i < 3; i++) assert.notEqual((await send()).status, 429, `request ${i + 1} is within the limit`)
    const refused = await send()
    clock.advance(60_000)
    return refused
  }

  it('answers the standard token endpoint 429 rate_limited with Retry-After', async () => {
    const refused = await fourth(() => request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client }))
    assert.deepEqual(limitAnswer(refused), {
      status: 429,
      headers: { 'retry-after': '20', 'cache-control': 'no-store', pragma: 'no-cache', 'content-type': JSON_TYPE },
      body: OAUTH_429,
    })
  })

  it('answers IdentityServer /connect/token 429 in its shape and with its cache headers', async () => {
    const refused = await fourth(() => request(`${server.url}/connect/token`, { form: { grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret } }))
    assert.deepEqual(limitAnswer(refused), {
      status: 429,
      headers: { 'retry-after': '20', 'cache-control': 'no-store, no-cache, max-age=0', pragma: 'no-cache', 'content-type': JSON_TYPE },
      body: OAUTH_429,
    })
  })

  it('answers Canary /v2/oauth/request-tokens 429 in its shape', async () => {
    const refused = await fourth(() => request(`${server.url}/v2/oauth/request-tokens`, { method: 'POST', headers: { 'csc-api-key': apiKey } }))
    assert.deepEqual(limitAnswer(refused), {
      status: 429,
      headers: { 'retry-after': '20', 'cache-control': 'no-store', pragma: 'no-cache', 'content-type': JSON_TYPE },
      body: OAUTH_429,
    })
  })

  it("answers the wrapped /v1/auth/token 429 with the seed's 429001 row", async () => {
    const refused = await fourth(() => request(`${server.url}/v1/auth/token`, { form: { client_id: client.id, client_secret: client.secret } }))
    assert.deepEqual(limitAnswer(refused), {
      status: 429,
      headers: { 'retry-after': '20', 'cache-control': 'no-store', pragma: 'no-cache', 'content-type': JSON_TYPE },
      body: { error: { code: '429001', code_reason: 'rate_limited', message: 'Too many requests' } },
    })
  })

  it('answers the management API 429 as an RFC 7807 problem, before authorization', async () => {
    const refused = await fourth(() => request(`${server.url}/admin/v1/clients`))
    assert.deepEqual(limitAnswer(refused), {
      status: 429,
      headers: { 'retry-after': '20', 'cache-control': 'no-store', pragma: null, 'content-type': 'application/problem+json; charset=utf-8' },
      body: { type: 'urn:gatehouse:problem:rate-limited', title: 'Too many requests', status: 429, detail: 'Too many requests; retry later.' },
    })
  })

  it('counts introspection and revocation too, and lets a request through once a point refilled', async () => {
    const introspect = (): Promise<HttpAnswer> => request(`${server.url}/oauth/introspect`, { form: { token: 'nothing' }, basic: client })
    for (let i = 0; i < 3; i++) assert.equal((await introspect()).status, 200)
    assert.equal((await request(`${server.url}/oauth/revoke`, { form: { token: 'nothing' }, basic: client })).status, 429)
    clock.advance(19_000)
    assert.deepEqual(limitAnswer(await introspect()).headers['retry-after'], '1')
    clock.advance(1_000)
    assert.deepEqual((await introspect()).body, { active: false })
    clock.advance(60_000)
  })

  it('leaves JWKS, metadata, health and metrics unlimited', async () => {
    for (let i = 0; i < 5; i++) {
      for (const path of ['/.well-known/jwks.json', '/.well-known/oauth-authorization-server', '/healthz', '/metrics']) {
        assert.equal((await request(`${server.url}${path}`)).status, 200, path)
      }
    }
  })
})

describe('rate limits per client and per API key, counted once the caller is proven', () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1))
  let server: TestServer
  let busy: { id: string; secret: string }
  let other: { id: string; secret: string }

  before(async () => {
    server = await startTestServer({
      clock,
      env: { GATEHOUSE_RATE_LIMIT_IP: 'off', GATEHOUSE_RATE_LIMIT_CLIENT: '2/1m', GATEHOUSE_RATE_LIMIT_API_KEY: '2/1m', GATEHOUSE_RATE_LIMIT_FAILURES: '3/1m' },
    })
    busy = await server.createClient({ grantTypes: ['client_credentials', 'api_key'] })
    other = await server.createClient()
  })
  after(() => server.close())

  const token = (client: { id: string; secret: string }): Promise<HttpAnswer> =>
    request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client })
  const wrongSecret = (clientId: string): Promise<HttpAnswer> =>
    request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id: clientId, secret: 'not-the-secret' } })

  it('refuses a client past its quota with 429 while another client carries on', async () => {
    assert.equal((await token(busy)).status, 200)
    assert.equal((await token(busy)).status, 200)
    const refused = await token(busy)
    assert.deepEqual(limitAnswer(refused), {
      status: 429,
      headers: { 'retry-after': '30', 'cache-control': 'no-store', pragma: 'no-cache', 'content-type': JSON_TYPE },
      body: OAUTH_429,
    })
    assert.equal((await token(other)).status, 200)
    clock.advance(60_000)
  })

  it("does not let bad secrets spend a client's quota, and throttles them past the failure budget", async () => {
    const unauthorized = { error: 'invalid_client', error_description: 'Client authentication failed.' }
    for (let i = 0; i < 3; i++) assert.deepEqual((await wrongSecret(busy.id)).body, unauthorized)
    const throttled = await wrongSecret(busy.id)
    assert.deepEqual(limitAnswer(throttled), {
      status: 429,
      headers: { 'retry-after': '20', 'cache-control': 'no-store', pragma: 'no-cache', 'content-type': JSON_TYPE },
      body: OAUTH_429,
    })
    // The attack goes on; the client's valid requests are untouched, its quota whole.
    for (let i = 0; i < 5; i++) assert.equal((await wrongSecret(busy.id)).status, 429)
    await server.server.gatehouse.audit.flush()
    assert.equal((await server.server.gatehouse.audit.list({ limit: 50, action: 'client.authentication_failed', target: `client:${busy.id}` })).length, 9, 'every failure is audited')
    assert.equal((await token(busy)).status, 200)
    assert.equal((await token(busy)).status, 200)
    // And the failures of one client id do not throttle another's.
    assert.deepEqual((await wrongSecret(other.id)).body, unauthorized)
    clock.advance(60_000)
  })

  it('limits token requests through one API key, and throttles bad secrets for a key id', async () => {
    const created = await server.server.gatehouse.apiKeys.create({ name: 'quota', clientId: busy.id, scopes: [] })
    const withKey = (key: string): Promise<HttpAnswer> => request(`${server.url}/v2/oauth/request-tokens`, { method: 'POST', headers: { 'csc-api-key': key } })
    assert.equal((await withKey(created.apiKey)).status, 200)
    assert.equal((await withKey(created.apiKey)).status, 200)
    assert.deepEqual(limitAnswer(await withKey(created.apiKey)), {
      status: 429,
      headers: { 'retry-after': '30', 'cache-control': 'no-store', pragma: 'no-cache', 'content-type': JSON_TYPE },
      body: OAUTH_429,
    })
    clock.advance(60_000)
    const wrong = `${created.key.id}:${'A'.repeat(43)}=`
    for (let i = 0; i < 3; i++) assert.equal((await withKey(wrong)).status, 401)
    assert.equal((await withKey(wrong)).status, 429)
    assert.equal((await withKey(created.apiKey)).status, 200)
    // Throttled or not, each failure is an audit event.
    await server.server.gatehouse.audit.flush()
    const failures = await server.server.gatehouse.audit.list({ limit: 50, action: 'api_key.authentication_failed', target: `api_key:${created.key.id}` })
    assert.equal(failures.length, 4)
  })

  it('counts refusals by scope in the metrics', async () => {
    const text = (await request(`${server.url}/metrics`)).text
    assert.match(text, /^gatehouse_rate_limited_total\{scope="client"\} 1$/m)
    assert.match(text, /^gatehouse_rate_limited_total\{scope="api_key"\} 1$/m)
    assert.match(text, /^gatehouse_rate_limited_total\{scope="credential_failures"\} 7$/m)
  })
})
