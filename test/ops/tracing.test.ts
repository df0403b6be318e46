import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { assertionFields, clientKey, signAssertion } from '../helpers/assertions.js'
import { basicHeader, request } from '../helpers/http.js'
import { dpopKey } from '../helpers/dpop.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { loadConfig } from '../../src/config.js'

/**
 * OpenTelemetry tracing (issue 16): the real server, its OTLP endpoint pointed at an in-process
 * OTLP/HTTP receiver (JSON, the only protocol of @opentelemetry/exporter-trace-otlp-http), token
 * requests of every kind; then the spans that arrived are checked for names, structure,
 * attributes, the caller's trace id, and that no secret appears anywhere in them.
 */

type Attributes = Record<string, string | number | boolean>
interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId: string
  name: string
  kind: number
  attributes: Attributes
  status: number
}
interface OtlpValue { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number }
interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: { key: string; value: OtlpValue }[]; status?: { code?: number } }
interface OtlpExport { resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] }

const value = (v: OtlpValue): string | number | boolean => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue ?? ''))
const attributesOf = (list: { key: string; value: OtlpValue }[] = []): Attributes => Object.fromEntries(list.map(({ key, value: v }) => [key, value(v)]))

const SERVER = 2
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CLIENT = 3

describe('OpenTelemetry tracing', () => {
  let receiver: Server
  let keys: Server
  /** Every request body the receiver was sent, as text (the no-secret check reads these whole). */
  const bodies: string[] = []
  const spans: ReceivedSpan[] = []
  const resources: Attributes[] = []
  let server: TestServer
  let client: { id: string; secret: string }
  const secrets: string[] = []
  const incomingTraceId = '4bf92f3577b34da6a3ce929d0e0e4736'

  const waitFor = async (condition: () => boolean): Promise<void> => {
    // Spans are batched (OTEL_BSP_SCHEDULE_DELAY=50): poll until they are in, or the test times out.
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const serverSpans = (): ReceivedSpan[] => spans.filter((span) => span.kind === SERVER)
  const childrenOf = (span: ReceivedSpan): ReceivedSpan[] => spans.filter((other) => other.parentSpanId === span.spanId)
  const descendantsOf = (span: ReceivedSpan): ReceivedSpan[] => childrenOf(span).flatMap((child) => [child, ...descendantsOf(child)])
  const requestSpan = (predicate: (attributes: Attributes) => boolean): ReceivedSpan => {
    const found = serverSpans().filter((span) => predicate(span.attributes))
    assert.equal(found.length, 1, 'one matching request span')
    return found[0] as ReceivedSpan
  }

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        if (req.method !== 'POST' || req.url !== '/v1/traces' || req.headers['content-type'] !== 'application/json') {
          res.writeHead(404)
          return res.end()
        }
        bodies.push(text)
        for (const resourceSpans of (JSON.parse(text) as OtlpExport).resourceSpans) {
          resources.push(attributesOf(resourceSpans.resource.attributes))
          for (const scope of resourceSpans.scopeSpans) {
            for (const span of scope.spans) {
              spans.push({ traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId ?? '', name: span.name, kind: span.kind, attributes: attributesOf(span.attributes), status: span.status?.code ?? 0 })
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end('{}')
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    // Read by the SDK from the process environment (the endpoint goes through Gatehouse's config).
    process.env.OTEL_BSP_SCHEDULE_DELAY = '50'
    server = await startTestServer({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}` } })

    const key = await clientKey('ES256', 'key-1')
    keys = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' })
      res.end(JSON.stringify({ keys: [key.publicJwk] }))
    })
    await new Promise<void>((resolve) => keys.listen(0, '127.0.0.1', resolve))

    client = await server.createClient()
    await server.createUser('erin@example.com', 'a passphrase for erin')
    const keyed = await server.createClient({ tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: `http://127.0.0.1:${(keys.address() as AddressInfo).port}/jwks`, grantTypes: ['client_credentials'] })
    const token = (form: Record<string, string>, headers: Record<string, string> = {}) => request(`${server.url}/oauth/token`, { form, basic: client, headers })

    const issued = await token({ grant_type: 'client_credentials', scope: 'api' }, { traceparent: `00-${incomingTraceId}-00f067aa0ba902b7-01` })
    assert.equal(issued.status, 200)
    const password = await token({ grant_type: 'password', username: 'erin@example.com', password: 'a passphrase for erin', scope: 'api' })
    assert.equal(password.status, 200)
    const { access_token: accessToken, refresh_token: refreshToken } = password.body as { access_token: string; refresh_token: string }
    assert.equal(typeof refreshToken, 'string')
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: refreshToken })
    assert.equal(refreshed.status, 200)
    const refused = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id: client.id, secret: 'wrong-secret-value' } })
    assert.equal(refused.status, 401)
    const assertion = await signAssertion(key, { clientId: keyed.id, audience: server.url, now: Math.floor(Date.now() / 1000) })
    const asserted = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', ...assertionFields(assertion) } })
    assert.equal(asserted.status, 200)
    // Secrets in a query string, where a token route reads none: still never recorded.
    const queried = await request(`${server.url}/oauth/token?client_secret=${client.secret}&code=query-code-value`, { form: { grant_type: 'client_credentials' }, basic: client })
    assert.equal(queried.status, 200)
    // Canary's api_key grant: the key travels in a header.
    const { apiKey } = await server.server.gatehouse.apiKeys.create({ name: 'traced', scopes: ['api'] })
    const canary = await request(`${server.url}/v2/oauth/request-tokens`, { method: 'POST', headers: { 'csc-api-key': apiKey } })
    assert.equal(canary.status, 200)
    const canaryTokens = canary.body as { accessToken: string; refreshToken: string }
    // Token exchange (RFC 8693): the subject and actor tokens are secrets too; a DPoP proof as well.
    const exchanger = await server.createClient({ grantTypes: ['urn:ietf:params:oauth:grant-type:token-exchange', 'client_credentials'], resources: [server.config.issuer], allowImpersonation: true })
    const actorToken = String(((await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: exchanger })).body as { access_token: string }).access_token)
    const dpop = await dpopKey()
    const proof = await dpop.proof({ htm: 'POST', htu: `${server.url}/oauth/token` })
    const exchanged = await request(`${server.url}/oauth/token`, {
      form: { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: accessToken, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', actor_token: actorToken, actor_token_type: 'urn:ietf:params:oauth:token-type:access_token' },
      basic: exchanger,
      headers: { dpop: proof },
    })
    assert.equal(exchanged.status, 200, exchanged.text)
    secrets.push(exchanger.secret, actorToken, proof, (exchanged.body as { access_token: string }).access_token)
    secrets.push(
      apiKey,
      apiKey.split(':')[1] ?? apiKey,
      canaryTokens.accessToken,
      canaryTokens.refreshToken,
      client.secret,
      'wrong-secret-value',
      'a passphrase for erin',
      basicHeader(client.id, client.secret),
      basicHeader(client.id, 'wrong-secret-value').slice('Basic '.length),
      accessToken,
      refreshToken,
      (issued.body as { access_token: string }).access_token,
      (refreshed.body as { access_token: string; refresh_token: string }).access_token,
      (refreshed.body as { access_token: string; refresh_token: string }).refresh_token,
      (asserted.body as { access_token: string }).access_token,
      assertion,
      'query-code-value',
    )
    await waitFor(() => serverSpans().length >= 9)
  })
  after(async () => {
    await server.close()
    keys.closeAllConnections()
    await new Promise((resolve) => keys.close(resolve))
    await new Promise((resolve) => receiver.close(resolve))
  })

  it('names the service gatehouse', () => {
    assert.ok(resources.length > 0)
    for (const resource of resources) assert.equal(resource['service.name'], 'gatehouse')
  })

  it('makes a server span per request, with the route, method, status, dialect, grant and outcome', () => {
    const span = requestSpan((a) => a['gatehouse.grant_type'] === 'password')
    assert.equal(span.name, 'POST /oauth/token')
    assert.equal(span.parentSpanId, '')
    assert.deepEqual(span.attributes, {
      'http.request.method': 'POST',
      'http.route': '/oauth/token',
      'url.scheme': 'http',
      'http.response.status_code': 200,
      'gatehouse.dialect': 'rfc6749',
      'gatehouse.grant_type': 'password',
      'gatehouse.outcome': 'token_issued',
    })
  })

  it('labels a Canary API key request with its dialect and grant', () => {
    const span = requestSpan((a) => a['gatehouse.dialect'] === 'canary')
    assert.equal(span.name, 'POST /v2/oauth/request-tokens')
    assert.equal(span.attributes['gatehouse.grant_type'], 'api_key')
    assert.equal(span.attributes['gatehouse.outcome'], 'token_issued')
    assert.ok(childrenOf(span).some((child) => child.name === 'grant api_key'))
  })

  it('labels a token exchange (RFC 8693) with its grant, and nests its grant span', () => {
    const span = requestSpan((a) => a['gatehouse.grant_type'] === 'urn:ietf:params:oauth:grant-type:token-exchange')
    assert.deepEqual([span.name, span.attributes['gatehouse.outcome']], ['POST /oauth/token', 'token_issued'])
    assert.ok(childrenOf(span).some((child) => child.name === 'grant urn:ietf:params:oauth:grant-type:token-exchange'), JSON.stringify(childrenOf(span).map((c) => c.name)))
  })

  it('records a refusal by its OAuth error code', () => {
    const span = requestSpan((a) => a['http.response.status_code'] === 401)
    assert.deepEqual(span.attributes, {
      'http.request.method': 'POST',
      'http.route': '/oauth/token',
      'url.scheme': 'http',
      'http.response.status_code': 401,
      'gatehouse.dialect': 'rfc6749',
      'gatehouse.grant_type': 'client_credentials',
      'gatehouse.outcome': 'invalid_client',
    })
    // A 4xx is the caller's error, not the server's (HTTP semantic conventions).
    assert.equal(span.status, 0)
    const [authentication, ...others] = childrenOf(span).filter((child) => child.name === 'client_authentication')
    assert.equal(others.length, 0)
    assert.equal(authentication?.attributes['gatehouse.outcome'], 'invalid_client')
    assert.equal(authentication?.attributes['error.type'], 'invalid_client')
    assert.ok(!childrenOf(span).some((child) => child.name.startsWith('grant ')), 'no grant runs for an unauthenticated client')
  })

  it('nests client authentication, the grant and store calls under the request span', () => {
    const span = requestSpan((a) => a['gatehouse.grant_type'] === 'refresh_token')
    const children = childrenOf(span)
    const authentication = children.find((child) => child.name === 'client_authentication')
    assert.deepEqual(authentication?.attributes, { 'gatehouse.client_id': client.id, 'gatehouse.client_auth_method': 'client_secret_basic' })
    const grant = children.find((child) => child.name === 'grant refresh_token')
    assert.deepEqual(grant?.attributes, { 'gatehouse.grant_type': 'refresh_token', 'gatehouse.outcome': 'token_issued' })
    const stores = descendantsOf(grant as ReceivedSpan).filter((child) => child.name.startsWith('store '))
    assert.ok(stores.length > 0, 'the grant made store calls')
    for (const store of stores) {
      assert.equal(store.kind, CLIENT)
      assert.deepEqual(store.attributes, { 'db.system.name': store.attributes['db.system.name'], 'db.operation.name': store.name.slice('store '.length) })
      assert.match(String(store.attributes['db.system.name']), /^(sqlite|postgresql)$/)
    }
    for (const child of descendantsOf(span)) assert.equal(child.traceId, span.traceId)
  })

  it('continues the trace of an incoming traceparent (W3C Trace Context)', () => {
    const continued = serverSpans().filter((span) => span.traceId === incomingTraceId)
    assert.equal(continued.length, 1, 'only that request continues it; the others start their own traces')
    const span = continued[0] as ReceivedSpan
    assert.equal(span.parentSpanId, '00f067aa0ba902b7')
    assert.equal(span.attributes['gatehouse.grant_type'], 'client_credentials')
    assert.deepEqual(childrenOf(span).map((child) => child.name).sort(), ['client_authentication', 'grant client_credentials'])
    assert.equal(new Set(serverSpans().map((s) => s.traceId)).size, serverSpans().length, 'one trace per request')
  })

  it('makes a client span for a jwks_uri fetch, with its host and port only', () => {
    const fetches = spans.filter((span) => span.name === 'GET jwks_uri')
    assert.equal(fetches.length, 1)
    const fetch = fetches[0] as ReceivedSpan
    assert.equal(fetch.kind, CLIENT)
    assert.deepEqual(fetch.attributes, { 'http.request.method': 'GET', 'server.address': '127.0.0.1', 'server.port': (keys.address() as AddressInfo).port, 'url.scheme': 'http' })
    // Under client authentication of a token request.
    const parent = spans.find((span) => span.spanId === fetch.parentSpanId)
    assert.equal(parent?.name, 'client_authentication')
  })

  it('records no secret, token, password, code or Authorization header in any span', () => {
    assert.ok(bodies.length > 0)
    const all = bodies.join('\n')
    for (const secret of secrets) assert.ok(!all.includes(secret), `no ${secret.slice(0, 6)}… in any exported span`)
    for (const key of ['authorization', 'url.full', 'url.query', 'url.path', 'http.request.header.authorization', 'http.request.body']) {
      assert.ok(!spans.some((span) => key in span.attributes), `no ${key} attribute`)
    }
  })
})

describe('tracing settings', () => {
  const load = (env: Record<string, string>) => loadConfig({}, { GATEHOUSE_SECRET: 'x'.repeat(40), ...env }).tracing

  it('is off without an OTLP endpoint, or when the SDK or the traces exporter is turned off', () => {
    assert.equal(load({}), null)
    assert.equal(load({ OTEL_SERVICE_NAME: 'auth' }), null)
    assert.equal(load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }), null)
    assert.equal(load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }), null)
  })

  it('appends /v1/traces to the base endpoint, takes the traces endpoint as is, and names the service', () => {
    assert.deepEqual(load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }), { tracesUrl: 'http://collector:4318/v1/traces', serviceName: 'gatehouse' })
    assert.deepEqual(load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/otlp/traces', OTEL_SERVICE_NAME: 'auth-eu' }), {
      tracesUrl: 'https://b/otlp/traces',
      serviceName: 'auth-eu',
    })
    assert.deepEqual(load({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }), { tracesUrl: 'http://c:4318/v1/traces', serviceName: 'gatehouse' })
  })

  it('refuses a protocol the exporter does not speak, another exporter, or an endpoint that is no http URL, without echoing the URL', () => {
    assert.throws(() => load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), {
      name: 'ConfigError',
      message: 'OTEL_EXPORTER_OTLP_PROTOCOL must be "http/json" or unset: Gatehouse exports traces as OTLP/HTTP JSON (got "grpc")',
    })
    assert.throws(() => load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), {
      message: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL must be "http/json" or unset: Gatehouse exports traces as OTLP/HTTP JSON (got "http/protobuf")',
    })
    assert.throws(() => load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'zipkin' }), { message: 'OTEL_TRACES_EXPORTER must be "otlp" or "none" (got "zipkin")' })
    assert.throws(() => load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector-with-password:hunter2' }), { message: 'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL (got scheme collector-with-password:)' })
    assert.throws(() => load({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' }), { message: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http(s) URL' })
  })
})

describe('tracing off', () => {
  it('loads nothing of OpenTelemetry and registers nothing when no endpoint is set', async () => {
    // A fresh process (this one has tracing loaded): a server without OTEL_* settings answers a
    // token request, then lists the OpenTelemetry modules loaded (CommonJS: in require.cache) and
    // the globals registered (a tracer provider, context manager or propagator would be one).
    const script = `
      import { createRequire } from 'node:module'
      const { startTestServer } = await import('./test/helpers/server.ts')
      const { request } = await import('./test/helpers/http.ts')
      const server = await startTestServer()
      const client = await server.createClient()
      const answer = await request(server.url + '/oauth/token', { form: { grant_type: 'client_credentials' }, basic: client })
      // @opentelemetry/api itself (a no-op facade) is loaded by prom-client, for exemplars, tracing or not: everything else counts.
      const modules = Object.keys(createRequire(import.meta.url).cache).filter((path) => (path.includes('/@opentelemetry/') && !path.includes('/@opentelemetry/api/')) || path.includes('/@fastify/otel/'))
      const globals = Object.getOwnPropertySymbols(globalThis).map(String).filter((name) => name.includes('opentelemetry'))
      console.log(JSON.stringify({ status: answer.status, modules, globals, tracing: server.server.gatehouse.tracing ?? null }))
      await server.close()
    `
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_')))
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    assert.equal(code, 0)
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1) ?? ''), { status: 200, modules: [], globals: [], tracing: null })
  })
})
