import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DEVICE_CODE_GRANT } from '../../src/core/types.js'
import { CookieBrowser, inputValue } from '../helpers/browser-session.js'
import { basicHeader } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/**
 * Property: whatever reaches the device authorization endpoints and the /device pages (method,
 * headers, content type, body, cookies), the answer is never a 5xx, never shows internals, and
 * has the documented shape: RFC 8628 §3.2 or an RFC 6749 §5.2 error for the endpoints, an HTML
 * page with the hosted pages' headers (or a 303 to the done page) for /device.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 60)
const PASSWORD = 'correct horse battery'

interface Sent {
  status: number
  headers: Headers
  text: string
  body: unknown
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
/** RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E. */
const DESCRIPTION_CHARS = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/
const showsInternals = (text: string): boolean => /\n\s+at |at .+\.(ts|js):\d+|node_modules|Error: /.test(text)

function isOAuthErrorBody(body: unknown): boolean {
  if (!isObject(body) || typeof body.error !== 'string' || !/^[a-z_]+$/.test(body.error)) return false
  if (body.error_description !== undefined && (typeof body.error_description !== 'string' || !DESCRIPTION_CHARS.test(body.error_description))) return false
  return Object.keys(body).every((key) => key === 'error' || key === 'error_description')
}

/** RFC 8628 §3.2, exactly. */
function isDeviceAnswer(body: unknown, base: string): boolean {
  if (!isObject(body)) return false
  const keys = Object.keys(body).sort().join()
  return (
    keys === 'device_code,expires_in,interval,user_code,verification_uri,verification_uri_complete' &&
    typeof body.device_code === 'string' &&
    /^[A-Za-z0-9_-]{43}$/.test(body.device_code) &&
    typeof body.user_code === 'string' &&
    /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/.test(body.user_code) &&
    body.verification_uri === `${base}/device` &&
    body.verification_uri_complete === `${base}/device?user_code=${body.user_code}` &&
    body.expires_in === 600 &&
    body.interval === 5
  )
}

const CONTENT_TYPES = ['application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded; charset=utf-8', '*/*', 'garbage']
const headerValue = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,60}$/)

describe('device authorization routes under arbitrary input (fast-check)', () => {
  let server: TestServer
  let valid: { tv: { id: string; secret: string }; cli: string; userCode: string; csrf: string; cookie: string; decisionCsrf: string; sessionCookie: string }

  before(async () => {
    server = await startTestServer()
    await server.createUser('ann@example.com', PASSWORD)
    const clients = server.server.gatehouse.clients
    const tv = await clients.create({ name: 'TV', grantTypes: [DEVICE_CODE_GRANT], scopes: ['openid', 'api'] })
    const cli = await clients.create({ name: 'CLI', tokenEndpointAuthMethod: 'none', grantTypes: [DEVICE_CODE_GRANT], scopes: ['openid', 'offline_access'] })
    const started = (await (await fetch(`${server.url}/oauth/device_authorization`, { method: 'POST', body: new URLSearchParams({ client_id: cli.client.id }) })).json()) as { user_code: string }
    // A real session and real forms, so that some runs get past the CSRF checks.
    const browser = new CookieBrowser(server.url)
    const form = await browser.get('/device')
    const signIn = await browser.post('/device', { _csrf: inputValue(form.text, '_csrf'), user_code: started.user_code })
    const confirm = await browser.post('/device/signin', { _csrf: inputValue(signIn.text, '_csrf'), user_code: started.user_code, username: 'ann@example.com', password: PASSWORD })
    valid = {
      tv: { id: tv.client.id, secret: tv.clientSecret ?? '' },
      cli: cli.client.id,
      userCode: started.user_code,
      csrf: inputValue(form.text, '_csrf'),
      cookie: browser.cookie('gatehouse_device') ?? '',
      decisionCsrf: inputValue(confirm.text, '_csrf'),
      sessionCookie: browser.cookie('gatehouse_session') ?? '',
    }
    assert.ok(valid.cookie && valid.sessionCookie && valid.decisionCsrf)
  })
  after(() => server.close())

  async function send(input: { path: string; method: string; headers: Record<string, string>; contentType: string | undefined; body: string | undefined }): Promise<Sent> {
    const headers: Record<string, string> = { ...input.headers }
    if (input.contentType !== undefined) headers['content-type'] = input.contentType
    const hasBody = input.body !== undefined && input.method !== 'GET'
    const response = await fetch(`${server.url}${input.path}`, { method: input.method, headers, redirect: 'manual', ...(hasBody ? { body: input.body } : {}) })
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = text === '' ? undefined : JSON.parse(text)
    } catch {
      parsed = Symbol('not json')
    }
    return { status: response.status, headers: response.headers, text, body: parsed }
  }

  const bodyOf = (fields: fc.Arbitrary<Record<string, string>>): fc.Arbitrary<string | undefined> =>
    fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 120 }),
      fc.json({ maxDepth: 2 }),
      fields.chain((record) => fc.constantFrom(new URLSearchParams(record).toString(), JSON.stringify(record))),
    )

  const endpointRequest = (paths: fc.Arbitrary<string>) =>
    fc.record({
      path: paths,
      method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT'),
      headers: fc.dictionary(fc.constantFrom('authorization', 'accept', 'x-custom'), fc.oneof(headerValue, fc.constantFrom(basicHeader(valid.tv.id, valid.tv.secret), basicHeader(valid.tv.id, 'wrong'), 'Basic', 'Basic %%%')), { maxKeys: 2 }),
      contentType: fc.option(fc.oneof(fc.constantFrom(...CONTENT_TYPES), headerValue), { nil: undefined }),
      body: bodyOf(
        fc.dictionary(
          fc.constantFrom('client_id', 'client_secret', 'scope', 'audience', 'x'),
          fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom(valid.tv.id, valid.tv.secret, valid.cli, 'openid', 'openid api', 'offline_access', 'admin', '"é\\')),
        ),
      ),
    })

  it('POST /oauth/device_authorization: the §3.2 answer, or an RFC 6749 error (400 / 401) with no-store', async () => {
    await fc.assert(
      fc.asyncProperty(endpointRequest(fc.constant('/oauth/device_authorization')), async (input) => {
        const sent = await send(input)
        assert.ok(sent.status < 500, `5xx: ${sent.status} ${sent.text}`)
        assert.ok(!showsInternals(sent.text), sent.text)
        if (input.method !== 'POST') return assert.equal(sent.status, 404)
        assert.equal(sent.headers.get('cache-control'), 'no-store', sent.text)
        if (sent.status === 200) return assert.ok(isDeviceAnswer(sent.body, server.url), sent.text)
        assert.ok([400, 401].includes(sent.status) && isOAuthErrorBody(sent.body), `${sent.status} ${sent.text}`)
      }),
      { numRuns: RUNS },
    )
  })

  it('POST /connect/deviceauthorization: the §3.2 answer, or 400 with {error, error_description?} and IdentityServer headers', async () => {
    await fc.assert(
      fc.asyncProperty(endpointRequest(fc.constant('/connect/deviceauthorization')), async (input) => {
        const sent = await send(input)
        assert.ok(sent.status < 500, `5xx: ${sent.status} ${sent.text}`)
        if (input.method !== 'POST') return assert.equal(sent.status, 404)
        assert.equal(sent.headers.get('cache-control'), 'no-store, no-cache, max-age=0', sent.text)
        if (sent.status === 200) return assert.ok(isDeviceAnswer(sent.body, server.url), sent.text)
        assert.ok(sent.status === 400 && isOAuthErrorBody(sent.body), `${sent.status} ${sent.text}`)
      }),
      { numRuns: RUNS },
    )
  })

  it('the /device pages: an HTML page with the hosted headers, or a 303 to the done page; never a 5xx', async () => {
    const field = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 20 }))
    const fields = fc.dictionary(
      fc.constantFrom('_csrf', 'user_code', 'username', 'password', 'decision', 'x'),
      fc.oneof(field, fc.constantFrom(valid.csrf, valid.decisionCsrf, valid.userCode, valid.userCode.toLowerCase(), 'BCDF-GHJK', 'ann@example.com', PASSWORD, 'allow', 'deny', '<script>alert(1)</script>')),
    )
    const cookies = fc.subarray([`gatehouse_device=${valid.cookie}`, `gatehouse_session=${valid.sessionCookie}`, 'gatehouse_device_signin=forged.1.x', `gatehouse_session=${'x'.repeat(200)}`])
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          path: fc.constantFrom('/device', '/device/signin', '/device/decision', '/device/done'),
          method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'DELETE'),
          cookie: cookies,
          contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: 'application/x-www-form-urlencoded' }),
          body: bodyOf(fields),
          query: fc.option(fc.oneof(fields.map((record) => new URLSearchParams(record).toString()), fc.constantFrom('result=approved', 'result=denied', 'user_code=%', 'user_code=a&user_code=b')), { nil: undefined }),
        }),
        async (input) => {
          const headers: Record<string, string> = input.cookie.length > 0 ? { cookie: input.cookie.join('; ') } : {}
          const sent = await send({ path: input.query === undefined ? input.path : `${input.path}?${input.query}`, method: input.method, headers, contentType: input.contentType, body: input.body })
          assert.ok(sent.status < 500, `5xx for ${input.method} ${input.path}: ${sent.status} ${sent.text}`)
          assert.ok(!showsInternals(sent.text), sent.text)
          const routed = (input.method === 'GET' && (input.path === '/device' || input.path === '/device/done')) || (input.method === 'POST' && input.path !== '/device/done')
          if (!routed) return assert.equal(sent.status, 404)
          if (sent.status === 303) {
            const location = sent.headers.get('location') ?? ''
            return assert.ok(/^\/device(\/done\?result=(approved|denied))?$/.test(location), location)
          }
          // 415: Fastify refuses a content type it cannot even parse (the hosted error page says so).
          assert.ok([200, 400, 401, 403, 415, 429].includes(sent.status), `${input.method} ${input.path}: ${sent.status}`)
          assert.equal(sent.headers.get('content-type'), 'text/html; charset=utf-8', sent.text)
          assert.match(sent.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/)
          assert.equal(sent.headers.get('cache-control'), 'no-store')
          assert.match(sent.text, /^<!doctype html>/)
          assert.doesNotMatch(sent.text, /<script>alert/)
        },
      ),
      { numRuns: RUNS * 2 },
    )
  })
})
