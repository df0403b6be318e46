import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createOperatorToken } from '../../src/core/admin/operator-token.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/**
 * Property: whatever arrives at a dialect route (method, headers, content type, body), the
 * answer is never a 5xx, never shows a stack trace, and every error has the dialect's
 * documented shape. Run counts stay modest: the machine has two cores.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 60)

interface Sent {
  status: number
  headers: Headers
  text: string
  body: unknown
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const keysOf = (value: unknown): string[] => (isObject(value) ? Object.keys(value) : [])

/** RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E (no `"`, no `\`, ASCII only). */
const DESCRIPTION_CHARS = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/

/** Every empty array in a JSON document (RFC 8414 §3.2: such members are omitted). */
function hasEmptyArray(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0 || value.some(hasEmptyArray)
  return isObject(value) && Object.values(value).some(hasEmptyArray)
}

/** RFC 6749 §5.2 shape: `error` (a code) and a string `error_description` (optional where noted). */
function isOAuthErrorBody(body: unknown, descriptionRequired: boolean): boolean {
  if (!isObject(body) || typeof body.error !== 'string' || !/^[a-z_]+$/.test(body.error)) return false
  const keys = keysOf(body)
  if (descriptionRequired && typeof body.error_description !== 'string') return false
  if (body.error_description !== undefined && typeof body.error_description !== 'string') return false
  if (typeof body.error_description === 'string' && !DESCRIPTION_CHARS.test(body.error_description)) return false
  return keys.every((key) => key === 'error' || key === 'error_description')
}

const WRAPPED_ROWS: Record<number, [string, string, string]> = {
  400: ['400013', 'invalid_request', 'Missing or invalid parameters'],
  401: ['401021', 'invalid_client', 'Invalid client_id, client_secret, or session_key'],
  403: ['403001', 'forbidden', 'Access forbidden for this resource'],
  404: ['404001', 'not_found', 'Resource or endpoint not found'],
  429: ['429001', 'rate_limited', 'Too many requests'],
}

function isWrappedError(status: number, body: unknown): boolean {
  const row = WRAPPED_ROWS[status]
  if (!row || !isObject(body) || keysOf(body).join() !== 'error' || !isObject(body.error)) return false
  return JSON.stringify(body.error) === JSON.stringify({ code: row[0], code_reason: row[1], message: row[2] })
}

/** Anything that looks like a leaked stack frame or exception text. */
function showsInternals(text: string): boolean {
  return /\n\s+at |at .+\.(ts|js):\d+|node_modules|Error: /.test(text)
}

const CONTENT_TYPES = [
  'application/json',
  'application/x-www-form-urlencoded',
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-8',
  'application/x-www-form-urlencoded; charset=latin1',
  '*/*',
  'garbage',
]

/** Header values fetch can send: printable ASCII, no CR/LF. */
const headerValue = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,80}$/)

describe('dialect routes under arbitrary input (fast-check)', () => {
  let server: TestServer
  let valid: { apiKey: string; refreshToken: string; clientId: string; clientSecret: string; bearer: string }

  before(async () => {
    server = await startTestServer({ env: { GATEHOUSE_METRICS_TOKEN: 'fuzz-metrics-token' } })
    const client = await server.createClient({ scopes: ['openid', 'offline_access', 'email', 'api'], grantTypes: ['client_credentials', 'password', 'refresh_token'] })
    const { apiKey } = await server.server.gatehouse.apiKeys.create({ name: 'fuzz', scopes: ['api'] })
    const canary = (await (await fetch(`${server.url}/v2/oauth/request-tokens`, { method: 'POST', headers: { 'Csc-Api-Key': apiKey } })).json()) as {
      accessToken: string
      refreshToken: string
    }
    valid = { apiKey, refreshToken: canary.refreshToken, clientId: client.id, clientSecret: client.secret, bearer: canary.accessToken }
  })
  after(() => server.close())

  /** Mixes real credentials into the random ones so that deeper code paths are reached too. */
  const credential = (): fc.Arbitrary<string> =>
    fc.oneof(
      headerValue,
      fc.constantFrom(valid.apiKey, valid.refreshToken, `Bearer ${valid.bearer}`, `Basic ${Buffer.from(`${valid.clientId}:${valid.clientSecret}`).toString('base64')}`, 'Basic', 'Bearer '),
    )

  const headers = (): fc.Arbitrary<Record<string, string>> =>
    fc.dictionary(
      fc.constantFrom('csc-api-key', 'x-refresh-token', 'csc-refresh-token', 'authorization', 'x-custom', 'accept', 'content-encoding', 'transfer-encoding-x'),
      credential(),
      { maxKeys: 4 },
    )

  const body = (): fc.Arbitrary<string | undefined> =>
    fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 200 }),
      fc.json({ maxDepth: 3 }),
      fc
        .dictionary(
          fc.constantFrom('grant_type', 'client_id', 'client_secret', 'username', 'password', 'scope', 'refresh_token', 'token', 'token_type_hint', 'access_token', 'userPool', 'projectId'),
          fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('password', 'client_credentials', 'refresh_token', valid.clientId, valid.clientSecret, valid.refreshToken)),
        )
        .chain((fields) => fc.constantFrom(new URLSearchParams(fields).toString(), JSON.stringify(fields))),
    )

  const requestArbitrary = (paths: fc.Arbitrary<string>) =>
    fc.record({
      path: paths,
      method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE'),
      headers: headers(),
      contentType: fc.option(fc.oneof(fc.constantFrom(...CONTENT_TYPES), headerValue), { nil: undefined }),
      body: body(),
    })

  async function send(input: { path: string; method: string; headers: Record<string, string>; contentType: string | undefined; body: string | undefined }): Promise<Sent> {
    const headersOut: Record<string, string> = { ...input.headers }
    if (input.contentType !== undefined) headersOut['content-type'] = input.contentType
    const hasBody = input.body !== undefined && input.method !== 'GET'
    const response = await fetch(`${server.url}${input.path}`, { method: input.method, headers: headersOut, ...(hasBody ? { body: input.body } : {}) })
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = text === '' ? undefined : JSON.parse(text)
    } catch {
      parsed = Symbol('not json')
    }
    return { status: response.status, headers: response.headers, text, body: parsed }
  }

  async function check(paths: fc.Arbitrary<string>, shapeOk: (sent: Sent, path: string, method: string) => boolean): Promise<void> {
    await fc.assert(
      fc.asyncProperty(requestArbitrary(paths), async (input) => {
        const sent = await send(input)
        assert.ok(sent.status < 500, `5xx for ${input.method} ${input.path}: ${sent.status} ${sent.text}`)
        assert.ok(!showsInternals(sent.text), `internals shown: ${sent.text}`)
        assert.ok(shapeOk(sent, input.path, input.method), `shape for ${input.method} ${input.path}: ${sent.status} ${sent.text}`)
      }),
      { numRuns: RUNS },
    )
  }

  it('Canary routes answer 200 or an RFC 6749 error with 400 / 401 (404 for other methods)', async () => {
    const paths = fc.constantFrom('/v2/oauth/request-tokens', '/v2/oauth/refresh-tokens', '/v3/auth/tokens/get', '/v3/auth/tokens/refresh')
    await check(paths, (sent, _path, method) => {
      if (method !== 'POST') return sent.status === 404
      if (sent.status === 200) return keysOf(sent.body).includes('accessToken')
      return [400, 401].includes(sent.status) && isOAuthErrorBody(sent.body, true) && sent.headers.get('cache-control') === 'no-store'
    })
  })

  it('IdentityServer token, revocation and introspection answer 200 or 400 with {error, error_description?}', async () => {
    const paths = fc.constantFrom('/connect/token', '/connect/revocation', '/connect/introspect')
    await check(paths, (sent, _path, method) => {
      if (method !== 'POST') return sent.status === 404
      if (sent.status === 200) return true
      return sent.status === 400 && isOAuthErrorBody(sent.body, false) && sent.headers.get('cache-control') === 'no-store, no-cache, max-age=0'
    })
  })

  it('IdentityServer userinfo answers claims, or an RFC 6750 error with its challenge', async () => {
    await check(fc.constant('/connect/userinfo'), (sent, _path, method) => {
      if (method !== 'POST' && method !== 'GET') return sent.status === 404
      if (sent.status === 200) return isObject(sent.body) && typeof sent.body.sub === 'string'
      const challenge = sent.headers.get('www-authenticate') ?? ''
      if (sent.status === 401 && sent.text === '') return challenge === 'Bearer'
      return [400, 401, 403].includes(sent.status) && challenge.startsWith('Bearer error="') && isOAuthErrorBody(sent.body, true)
    })
  })

  it('the wrapped dialect answers {data} or a row of its error table, on any /v1/ path', async () => {
    const paths = fc.oneof(
      fc.constant('/v1/auth/token'),
      fc.stringMatching(/^[a-z0-9/_-]{0,30}$/).map((rest) => `/v1/${rest}`),
    )
    await check(paths, (sent) => {
      if (sent.status === 200) return keysOf(sent.body).join() === 'data'
      return isWrappedError(sent.status, sent.body)
    })
  })
  /** Any text, non-ASCII, quotes and backslashes included: what error descriptions may echo. */
  const anyText = (): fc.Arbitrary<string> => fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('"', '\\', 'é', 'api_key', 'x"é\\y', '\u0000'))

  it('the standard endpoints answer 200, or an RFC 6749 error whose description has only §5.2 characters', async () => {
    const paths = fc.constantFrom('/oauth/token', '/oauth/introspect', '/oauth/revoke')
    await check(paths, (sent, path, method) => {
      if (method !== 'POST' && !(method === 'GET' && path === '/oauth/token')) return sent.status === 404
      if (sent.status === 200) return true
      return [400, 401, 405].includes(sent.status) && isOAuthErrorBody(sent.body, false) && sent.headers.get('cache-control') === 'no-store'
    })
  })

  it('echoed grant_type, scope and token_type_hint never put a character outside RFC 6749 §5.2 in error_description', async () => {
    const basic = `Basic ${Buffer.from(`${valid.clientId}:${valid.clientSecret}`).toString('base64')}`
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/oauth/token', '/connect/token', '/oauth/introspect', '/connect/introspect', '/v1/auth/token'),
        fc.record({ grant_type: anyText(), scope: anyText(), token: anyText(), token_type_hint: anyText() }, { requiredKeys: ['grant_type'] }),
        async (path, fields) => {
          const sent = await send({ path, method: 'POST', headers: { authorization: basic }, contentType: 'application/x-www-form-urlencoded', body: new URLSearchParams(fields).toString() })
          assert.ok(sent.status < 500, `5xx for ${path}: ${sent.status} ${sent.text}`)
          if (path === '/v1/auth/token') return assert.ok(sent.status === 200 || isWrappedError(sent.status, sent.body), sent.text)
          assert.ok(sent.status === 200 || isOAuthErrorBody(sent.body, false), `shape for ${path}: ${sent.text}`)
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('a Bearer header of any shape at /connect/userinfo and /metrics: 400 invalid_request when malformed, never a 5xx', async () => {
    const bearer = fc.oneof(
      headerValue.map((value) => `Bearer ${value}`),
      fc.constantFrom('Bearer', 'Bearer ', 'bearer a b', `Bearer ${valid.bearer} x`, 'Bearer fuzz-metrics-token', `Bearer ${valid.bearer}`),
      headerValue,
    )
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/connect/userinfo', '/metrics'), bearer, async (path, authorization) => {
        const sent = await send({ path, method: 'GET', headers: { authorization }, contentType: undefined, body: undefined })
        assert.ok(sent.status < 500, `5xx for ${path}: ${sent.status} ${sent.text}`)
        const challenge = sent.headers.get('www-authenticate') ?? ''
        const token = /^bearer +(.*)$/i.exec(authorization.trim())?.[1]?.trim()
        const malformed = token !== undefined ? !/^[A-Za-z0-9\-._~+/]+=*$/.test(token) : /^bearer$/i.test(authorization.trim())
        if (malformed) {
          assert.equal(sent.status, 400, `${path} ${JSON.stringify(authorization)}: ${sent.text}`)
          assert.deepEqual((sent.body as Record<string, unknown>).error, 'invalid_request')
          assert.match(challenge, /^Bearer (realm="metrics", )?error="invalid_request"/)
        }
        if (sent.status !== 200 && isObject(sent.body) && typeof sent.body.error_description === 'string') assert.match(sent.body.error_description, DESCRIPTION_CHARS)
        assert.match(challenge, /^[\x20-\x7e]*$/)
      }),
      { numRuns: RUNS },
    )
  })

  it('metadata at any well-known path: 200 without empty arrays, or a JSON 404', async () => {
    const suffix = fc.oneof(fc.constant(''), fc.stringMatching(/^\/[a-z0-9/_-]{0,20}$/))
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'), suffix, async (path, rest) => {
        const sent = await send({ path: path + rest, method: 'GET', headers: {}, contentType: undefined, body: undefined })
        assert.ok([200, 404].includes(sent.status), `${path}${rest}: ${sent.status}`)
        if (sent.status === 200) {
          assert.equal(hasEmptyArray(sent.body), false, sent.text)
          // RFC 8414 §2: REQUIRED, and only what the authorization endpoint serves.
          assert.deepEqual((sent.body as Record<string, unknown>).response_types_supported, ['code'])
        }
      }),
      { numRuns: RUNS },
    )
  })

  it('an API key lifetime of any size at the management API: 201 or a 400 problem, and listings stay 200', async () => {
    const g = server.server.gatehouse
    const issued = await createOperatorToken({ store: g.store, clients: g.clients, operators: g.operators, tokens: g.tokens, audit: g.audit, maxAccessTokenTtl: g.config.maxAccessTokenTtl }, {})
    const headers = { authorization: `Bearer ${issued.accessToken}` }
    const lifetime = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(1e20, 315_360_000, 315_360_001, Number.MAX_SAFE_INTEGER, 0, -1))
    await fc.assert(
      fc.asyncProperty(lifetime, async (expires_in) => {
        const sent = await send({ path: '/admin/v1/api-keys', method: 'POST', headers, contentType: 'application/json', body: JSON.stringify({ name: 'fuzz', expires_in }) })
        assert.ok([201, 400].includes(sent.status), `expires_in ${expires_in}: ${sent.status} ${sent.text}`)
        if (sent.status === 201) assert.ok(Number.isInteger(expires_in) && expires_in >= 1 && expires_in <= 315_360_000, String(expires_in))
      }),
      { numRuns: RUNS },
    )
    const listed = await send({ path: '/admin/v1/api-keys?limit=100', method: 'GET', headers, contentType: undefined, body: undefined })
    assert.equal(listed.status, 200, listed.text)
  })
})
