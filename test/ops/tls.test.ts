import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ConfigError, loadConfig } from '../../src/config.js'
import { createOperatorToken } from '../../src/core/admin/operator-token.js'
import { basicHeader, request, type HttpAnswer } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/** Issue 12 item 1: TLS served directly, and required in production. */

const TLS_REQUIRED = 'TLS is required (RFC 6749 section 3.2 / 10.9): send this request over https.'
const PRODUCTION = { NODE_ENV: 'production', GATEHOUSE_ISSUER: 'https://auth.example.test' }

/** A throw-away P-256 certificate for localhost and 127.0.0.1. */
function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' })
  return { cert, key }
}

/** A form POST over https, trusting only `ca`. */
function postOverHttps(url: string, ca: Buffer, form: Record<string, string>, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const body = new URLSearchParams(form).toString()
    const outgoing = httpsRequest(url, { method: 'POST', ca, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }))
    })
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

/** A plain-HTTP GET; resolves with the status if anything answers. */
function getOverPlainHttp(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { method: 'GET', timeout: 5000 }, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    outgoing.on('timeout', () => outgoing.destroy(new Error('timed out')))
    outgoing.on('error', reject)
    outgoing.end()
  })
}

function assertTlsRequired(answer: HttpAnswer): void {
  assert.deepEqual(
    { status: answer.status, cacheControl: answer.headers.get('cache-control'), body: answer.body },
    { status: 400, cacheControl: 'no-store', body: { error: 'invalid_request', error_description: TLS_REQUIRED } },
  )
}

describe('TLS served directly (--tls-cert / --tls-key)', () => {
  let dir: string
  let files: { cert: string; key: string }
  let server: TestServer
  let client: { id: string; secret: string }
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-tls-'))
    files = selfSignedCertificate(dir)
    // In production, so the token endpoint also shows that a TLS request meets the requirement.
    server = await startTestServer({ env: { ...PRODUCTION, GATEHOUSE_TLS_CERT: files.cert, GATEHOUSE_TLS_KEY: files.key } })
    client = await server.createClient()
  })
  after(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers a token request over https, with the URL it reports', async () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/)
    const answer = await postOverHttps(`${server.url}/oauth/token`, readFileSync(files.cert), { grant_type: 'client_credentials' }, { authorization: basicHeader(client.id, client.secret) })
    assert.equal(answer.status, 200)
    assert.deepEqual(Object.keys(answer.body as object).sort(), ['access_token', 'expires_in', 'scope', 'token_type'])
  })

  it('does not speak plain HTTP on that port', async () => {
    await assert.rejects(getOverPlainHttp(`${server.url.replace('https:', 'http:')}/healthz`))
  })
})

describe('TLS settings', () => {
  const base = { GATEHOUSE_SECRET: 'x'.repeat(32) }
  it('wants both files or neither, naming the one that is set', () => {
    assert.throws(() => loadConfig({}, { ...base, GATEHOUSE_TLS_CERT: '/tmp/cert.pem' }), { name: 'ConfigError', message: 'TLS needs both a certificate and a key: set --tls-cert (GATEHOUSE_TLS_CERT) and --tls-key (GATEHOUSE_TLS_KEY), or neither (got only GATEHOUSE_TLS_CERT)' })
    assert.throws(() => loadConfig({ tlsKey: '/tmp/key.pem' }, base), { name: 'ConfigError', message: 'TLS needs both a certificate and a key: set --tls-cert (GATEHOUSE_TLS_CERT) and --tls-key (GATEHOUSE_TLS_KEY), or neither (got only --tls-key)' })
    assert.equal(loadConfig({}, base).tls, undefined)
  })
  it('reads the files at start and names one it cannot read', () => {
    assert.throws(() => loadConfig({ tlsCert: '/nonexistent/cert.pem', tlsKey: '/nonexistent/key.pem' }, base), (error: unknown) => error instanceof ConfigError && error.message === '--tls-cert: cannot read "/nonexistent/cert.pem" (ENOENT)')
  })
  it('requires TLS in production unless GATEHOUSE_REQUIRE_TLS=false, and not elsewhere unless asked', () => {
    assert.equal(loadConfig({}, { ...base, ...PRODUCTION }).requireTls, true)
    assert.equal(loadConfig({}, { ...base, ...PRODUCTION, GATEHOUSE_REQUIRE_TLS: 'false' }).requireTls, false)
    assert.equal(loadConfig({}, base).requireTls, false)
    assert.equal(loadConfig({}, { ...base, GATEHOUSE_REQUIRE_TLS: 'true' }).requireTls, true)
    assert.throws(() => loadConfig({}, { ...base, GATEHOUSE_REQUIRE_TLS: 'maybe' }), /GATEHOUSE_REQUIRE_TLS must be true or false/)
  })
})

describe('plain HTTP in production (GATEHOUSE_REQUIRE_TLS on by default)', () => {
  let server: TestServer
  let client: { id: string; secret: string }
  let admin: string
  before(async () => {
    server = await startTestServer({ env: PRODUCTION })
    client = await server.createClient()
    const g = server.server.gatehouse
    admin = (await createOperatorToken({ store: g.store, clients: g.clients, operators: g.operators, tokens: g.tokens, audit: g.audit, maxAccessTokenTtl: g.config.maxAccessTokenTtl })).accessToken
  })
  after(() => server.close())

  it('refuses the token, introspection and revocation endpoints with invalid_request', async () => {
    for (const path of ['/oauth/token', '/oauth/introspect', '/oauth/revoke']) {
      assertTlsRequired(await request(`${server.url}${path}`, { form: { grant_type: 'client_credentials', token: 'x' }, basic: client }))
    }
  })

  it('refuses IdentityServer\'s /connect/token in its own shape', async () => {
    const answer = await request(`${server.url}/connect/token`, { form: { grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret } })
    assert.deepEqual([answer.status, answer.body], [400, { error: 'invalid_request', error_description: TLS_REQUIRED }])
  })

  it('refuses the management API with a 403 problem, before looking at the token', async () => {
    for (const headers of [{ authorization: `Bearer ${admin}` }, {}]) {
      const answer = await request(`${server.url}/admin/v1/clients`, { headers })
      assert.deepEqual(
        { status: answer.status, contentType: answer.headers.get('content-type'), cacheControl: answer.headers.get('cache-control'), body: answer.body },
        { status: 403, contentType: 'application/problem+json; charset=utf-8', cacheControl: 'no-store', body: { type: 'urn:gatehouse:problem:forbidden', title: 'Forbidden', status: 403, detail: TLS_REQUIRED } },
      )
    }
  })

  it('ignores X-Forwarded-Proto from a peer that is not a trusted proxy', async () => {
    assertTlsRequired(await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client, headers: { 'x-forwarded-proto': 'https' } }))
  })

  it('keeps health, JWKS and metadata reachable', async () => {
    for (const path of ['/healthz', '/readyz', '/.well-known/jwks.json', '/.well-known/oauth-authorization-server']) {
      assert.equal((await request(`${server.url}${path}`)).status, 200, path)
    }
  })
})

describe('plain HTTP in production behind a trusted TLS proxy', () => {
  let server: TestServer
  let client: { id: string; secret: string }
  before(async () => {
    server = await startTestServer({ env: { ...PRODUCTION, GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1' } })
    client = await server.createClient()
  })
  after(() => server.close())

  it('serves a request the proxy says came over https', async () => {
    const answer = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client, headers: { 'x-forwarded-proto': 'https' } })
    assert.equal(answer.status, 200)
  })

  it('refuses one the proxy says came over http', async () => {
    assertTlsRequired(await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client, headers: { 'x-forwarded-proto': 'http' } }))
  })
})

describe('GATEHOUSE_REQUIRE_TLS=false in production (local use)', () => {
  let server: TestServer
  let client: { id: string; secret: string }
  before(async () => {
    server = await startTestServer({ env: { ...PRODUCTION, GATEHOUSE_REQUIRE_TLS: 'false' } })
    client = await server.createClient()
  })
  after(() => server.close())

  it('serves the token endpoint over plain HTTP', async () => {
    assert.equal((await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client })).status, 200)
  })
})
