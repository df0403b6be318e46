import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { startTestServer, type TestServer } from '../helpers/server.js'

/**
 * Property: whatever reaches the authorization endpoint, the sign-in and consent posts or the
 * pushed-request endpoint — any parameters, repeated, oversized, with scripts in them — the
 * answer is never a 5xx, never reflects a script, and never redirects anywhere but a URI the
 * client registered. Run counts stay modest: the machine has two cores.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 60)
const REDIRECT = 'http://127.0.0.1:7777/callback'
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'

const NAMES = ['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'prompt', 'max_age', 'login_hint', 'request_uri', 'request', 'response_mode', 'ui_locales', 'x']
const hostile = fc.constantFrom('<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', 'javascript:alert(1)', 'https://evil.example/', '%00', '\u0000', '😀', 'a'.repeat(5000), ' ', '', 'code', 'S256', 'plain', 'none', 'login')

function parameters(clientId: string): fc.Arbitrary<[string, string][]> {
  const value = fc.oneof(hostile, fc.string({ maxLength: 60 }), fc.constantFrom(clientId, REDIRECT, CHALLENGE, 'openid'))
  return fc.array(fc.tuple(fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 20 })), value), { maxLength: 12 })
}

const good = (clientId: string): [string, string][] => [
  ['client_id', clientId],
  ['redirect_uri', REDIRECT],
  ['response_type', 'code'],
  ['code_challenge', CHALLENGE],
  ['code_challenge_method', 'S256'],
]

/**
 * A hostile value reflected as markup: the raw tag, not its HTML-escaped text (a sign-in form
 * that shows `login_hint` as `&quot;&gt;&lt;img src=x onerror=alert(1)&gt;` is correct), or a
 * stack trace.
 */
const REFLECTED = /<script>alert|<img src=x onerror|\n\s+at |node_modules/

function checkAnswer(status: number, headers: Headers, text: string): void {
  assert.ok(status < 500, `status ${status}: ${text.slice(0, 200)}`)
  assert.doesNotMatch(text, REFLECTED)
  const location = headers.get('location')
  if (location !== null) {
    assert.ok(location.startsWith(`${REDIRECT}?`), `redirected to ${location}`)
    const answer = new URL(location).searchParams
    assert.ok(answer.get('iss'))
    assert.ok(answer.get('code') !== null || answer.get('error') !== null)
  }
}

describe('authorization endpoints under arbitrary input (fast-check)', () => {
  let server: TestServer
  let clientId: string

  before(async () => {
    server = await startTestServer({ env: { GATEHOUSE_RATE_LIMIT_IP: 'off' } })
    clientId = (await server.createClient({ grantTypes: ['authorization_code'], scopes: ['openid'], redirectUris: [REDIRECT] })).id
  })
  after(() => server.close())

  it('GET and POST /oauth/authorize never answer 5xx, reflect a script, or redirect off the registered URI', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.boolean(), parameters(clientId), async (post, startGood, extra) => {
        const query = new URLSearchParams([...(startGood ? good(clientId) : []), ...extra])
        const answer = post
          ? await fetch(`${server.url}/oauth/authorize`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: query.toString() })
          : await fetch(`${server.url}/oauth/authorize?${query}`, { redirect: 'manual' })
        checkAnswer(answer.status, answer.headers, await answer.text())
      }),
      { numRuns: RUNS },
    )
  })

  it('POST /signin, /consent and /oauth/logout with arbitrary forms never answer 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/signin', '/consent', '/oauth/logout'), fc.array(fc.tuple(fc.constantFrom('_csrf', 'authorization', 'username', 'password', 'decision', 'id_token_hint', 'post_logout_redirect_uri', 'client_id', 'state'), fc.oneof(hostile, fc.string({ maxLength: 40 }))), { maxLength: 8 }), async (path, fields) => {
        const answer = await fetch(`${server.url}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() })
        const text = await answer.text()
        assert.ok(answer.status < 500, `${path} ${answer.status}: ${text.slice(0, 200)}`)
        assert.doesNotMatch(text, REFLECTED)
        assert.equal(answer.headers.get('location'), null, 'no redirect without a valid, checked request')
      }),
      { numRuns: RUNS },
    )
  })

  it('POST /oauth/par answers 201 with a request_uri or an RFC 6749 §5.2 error, never 5xx', async () => {
    const client = await server.createClient({ grantTypes: ['authorization_code'], scopes: ['openid'], redirectUris: [REDIRECT] })
    const basic = 'Basic ' + Buffer.from(`${client.id}:${client.secret}`).toString('base64')
    await fc.assert(
      fc.asyncProperty(fc.boolean(), parameters(client.id), async (startGood, extra) => {
        const body = new URLSearchParams([...(startGood ? good(client.id).filter(([name]) => name !== 'client_id') : []), ...extra])
        const answer = await fetch(`${server.url}/oauth/par`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() })
        const json = (await answer.json()) as Record<string, unknown>
        assert.ok(answer.status === 201 || answer.status === 400 || answer.status === 401, `status ${answer.status}`)
        assert.equal(answer.headers.get('cache-control'), 'no-store')
        if (answer.status === 201) assert.match(String(json.request_uri), /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/)
        else assert.match(String(json.error), /^[a-z_]+$/)
      }),
      { numRuns: RUNS },
    )
  })
})
