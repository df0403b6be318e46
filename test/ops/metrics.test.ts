import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { request } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

describe('Prometheus metrics at /metrics', () => {
  let server: TestServer
  let client: { id: string; secret: string }
  let text: string

  before(async () => {
    server = await startTestServer()
    client = await server.createClient()
    await server.createUser('erin@example.com', 'a passphrase for erin')
    await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client })
    await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client })
    await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id: client.id, secret: 'wrong-secret-value' } })
    await request(`${server.url}/oauth/token`, { form: { grant_type: 'password', username: 'erin@example.com', password: 'a passphrase for erin' }, basic: client })
    await request(`${server.url}/oauth/token`, { form: { grant_type: 'made_up' }, basic: client })
    await request(`${server.url}/connect/token`, { form: { grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret } })
    await request(`${server.url}/v1/auth/token`, { form: { client_id: client.id, client_secret: 'nope' } })
    const answer = await request(`${server.url}/metrics`)
    assert.equal(answer.status, 200)
    assert.equal(answer.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
    text = answer.text
  })
  after(() => server.close())

  const line = (pattern: string): RegExp => new RegExp(`^${pattern.replace(/[{}]/g, '\\$&')}$`, 'm')

  it('counts token requests by dialect, route, grant, outcome and error code', () => {
    assert.match(text, line('gatehouse_token_requests_total{dialect="rfc6749",route="/oauth/token",grant="client_credentials",outcome="success",error=""} 2'))
    assert.match(text, line('gatehouse_token_requests_total{dialect="rfc6749",route="/oauth/token",grant="client_credentials",outcome="refused",error="invalid_client"} 1'))
    assert.match(text, line('gatehouse_token_requests_total{dialect="rfc6749",route="/oauth/token",grant="password",outcome="success",error=""} 1'))
    assert.match(text, line('gatehouse_token_requests_total{dialect="rfc6749",route="/oauth/token",grant="other",outcome="refused",error="unsupported_grant_type"} 1'))
    assert.match(text, line('gatehouse_token_requests_total{dialect="identityserver",route="/connect/token",grant="client_credentials",outcome="success",error=""} 1'))
    assert.match(text, line('gatehouse_token_requests_total{dialect="wrapped",route="/v1/auth/token",grant="client_credentials",outcome="refused",error="invalid_client"} 1'))
  })

  it('has latency histograms for requests and store operations', () => {
    assert.match(text, line('gatehouse_token_request_duration_seconds_count{dialect="rfc6749",route="/oauth/token",outcome="success"} 3'))
    assert.match(text, /^gatehouse_token_request_duration_seconds_bucket\{le="0\.005",dialect="rfc6749",route="\/oauth\/token",outcome="success"\} \d+$/m)
    assert.match(text, /^gatehouse_store_operation_duration_seconds_count\{operation="getUserByUsername",outcome="ok"\} 1$/m)
    assert.match(text, /^gatehouse_store_operation_duration_seconds_count\{operation="insertGrant",outcome="ok"\} 1$/m)
  })

  it('reports the client cache, the published signing keys and the process', () => {
    assert.match(text, /^gatehouse_client_cache_requests\{result="hit"\} [1-9]\d*$/m)
    assert.match(text, /^gatehouse_client_cache_requests\{result="miss"\} [1-9]\d*$/m)
    assert.match(text, /^gatehouse_client_cache_hit_ratio 0\.\d+$/m)
    assert.match(text, line('gatehouse_signing_keys_published 2'))
    assert.match(text, /^gatehouse_process_resident_memory_bytes \d+$/m)
  })

  it('carries no client id, secret, username or token in any label', () => {
    for (const secret of [client.id, client.secret, 'wrong-secret-value', 'erin@example.com', 'a passphrase for erin', 'nope']) {
      assert.ok(!text.includes(secret), `no ${secret.slice(0, 4)}… in the metrics`)
    }
  })
})

describe('/metrics behind a bearer token (GATEHOUSE_METRICS_TOKEN)', () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer({ env: { GATEHOUSE_METRICS_TOKEN: 'scrape-token-0123456789' } })
  })
  after(() => server.close())

  it('refuses a scrape without the token or with another one', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'Basic c2NyYXBlOg==' }]) {
      const answer = await request(`${server.url}/metrics`, { headers })
      assert.deepEqual(
        { status: answer.status, challenge: answer.headers.get('www-authenticate'), body: answer.body },
        { status: 401, challenge: 'Bearer realm="metrics"', body: { error: 'unauthorized', error_description: 'A valid metrics bearer token is required.' } },
      )
    }
  })

  it('answers a malformed Bearer header 400 invalid_request (RFC 6750 §3.1)', async () => {
    for (const authorization of ['Bearer a b', 'Bearer ', 'Bearer scrape-token-0123456789 x']) {
      const answer = await request(`${server.url}/metrics`, { headers: { authorization } })
      assert.deepEqual(
        { status: answer.status, challenge: answer.headers.get('www-authenticate'), body: answer.body },
        {
          status: 400,
          challenge: 'Bearer realm="metrics", error="invalid_request"',
          body: { error: 'invalid_request', error_description: 'The Authorization header must be Bearer followed by one token.' },
        },
      )
    }
  })

  it('serves the metrics with it', async () => {
    const answer = await request(`${server.url}/metrics`, { headers: { authorization: 'Bearer scrape-token-0123456789' } })
    assert.equal(answer.status, 200)
    assert.match(answer.text, /^# TYPE gatehouse_token_requests_total counter$/m)
  })
})

describe('GATEHOUSE_METRICS=false', () => {
  it('does not serve /metrics', async () => {
    const server = await startTestServer({ env: { GATEHOUSE_METRICS: 'false' } })
    try {
      assert.equal((await request(`${server.url}/metrics`)).status, 404)
    } finally {
      await server.close()
    }
  })
})
