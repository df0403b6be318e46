import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createOperatorToken } from '../../src/core/admin/operator-token.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/**
 * Property: whatever reaches the operator routes, the client routes' sign-in settings (issue 13), the unlock and end-sessions routes, secret
 * rotation with revoke_tokens, or the token endpoint's
 * audience parameter (method, path segments, body), the answer is never a 5xx, never shows
 * internals, and an error has the documented shape (RFC 7807 problem under /admin/v1, RFC 6749
 * §5.2 at /oauth/token). Run counts stay modest: the machine has two cores.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 60)

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const showsInternals = (text: string): boolean => /\n\s+at |at .+\.(ts|js):\d+|node_modules|Error: /.test(text)

function isProblem(status: number, contentType: string | null, body: unknown): boolean {
  if (contentType !== 'application/problem+json; charset=utf-8' || !isObject(body)) return false
  return Object.keys(body).sort().join() === 'detail,status,title,type' && body.status === status && typeof body.type === 'string' && body.type.startsWith('urn:gatehouse:problem:') && typeof body.detail === 'string'
}

async function send(url: string, method: string, headers: Record<string, string>, body: string | undefined): Promise<{ status: number; contentType: string | null; text: string; body: unknown }> {
  const response = await fetch(url, { method, headers, ...(body !== undefined && method !== 'GET' && method !== 'HEAD' ? { body } : {}) })
  const text = await response.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: response.status, contentType: response.headers.get('content-type'), text, body: parsed }
}

describe('operator routes and the audience parameter under random input', () => {
  let server: TestServer
  let admin: string
  let client: { id: string; secret: string }

  before(async () => {
    server = await startTestServer({ env: { GATEHOUSE_LOCKOUT: 'off', GATEHOUSE_RATE_LIMIT_IP: 'off', GATEHOUSE_RATE_LIMIT_CLIENT: 'off', GATEHOUSE_RATE_LIMIT_FAILURES: 'off' } })
    const g = server.server.gatehouse
    admin = (await createOperatorToken({ store: g.store, clients: g.clients, operators: g.operators, tokens: g.tokens, audit: g.audit, maxAccessTokenTtl: g.config.maxAccessTokenTtl })).accessToken
    client = await server.createClient({ scopes: ['api'] })
    await server.createUser('fuzz@example.com', 'fuzz-password-1')
  })
  after(() => server.close())

  const segment = fc.oneof(
    fc.constantFrom('user', 'client', 'gatehouse-operator', 'fuzz@example.com', '', '..', '%00', '%2F', 'a'.repeat(400)),
    fc.string({ maxLength: 30 }).map(encodeURIComponent),
  )
  const body = fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 100 }),
    fc.json({ maxDepth: 3 }),
    fc.record({ role: fc.oneof(fc.constantFrom('admin', 'read-only', '', 'ADMIN'), fc.string({ maxLength: 20 }), fc.integer()) }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
  )

  it('never answers 5xx at /admin/v1/operators…, /users/…/unlock, /users/…/end-sessions or /clients/…/secret?revoke_tokens=, and errors are problems', async () => {
    const rotated = await server.createClient({ scopes: ['api'] })
    const path = fc.oneof(
      fc.constant('/operators'),
      fc.tuple(segment, segment).map(([kind, id]) => `/operators/${kind}/${id}`),
      segment.map((kind) => `/operators/${kind}`),
      segment.map((id) => `/users/${id}/unlock`),
      // Grant endings (issue 11): end a user's sessions, rotate a secret with revoke_tokens.
      segment.map((id) => `/users/${id}/end-sessions`),
      fc
        .tuple(fc.oneof(segment, fc.constant('CLIENT')), fc.oneof(fc.constantFrom('true', 'false', '', '1', 'yes'), fc.string({ maxLength: 10 }).map(encodeURIComponent)))
        .map(([id, flag]) => `/clients/${id === 'CLIENT' ? rotated.id : id}/secret?revoke_tokens=${flag}`),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          path,
          method: fc.constantFrom('GET', 'PUT', 'DELETE', 'POST', 'PATCH', 'HEAD'),
          body,
          contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
          authorized: fc.boolean(),
        }),
        async (input) => {
          const headers: Record<string, string> = { 'content-type': input.contentType, ...(input.authorized ? { authorization: `Bearer ${admin}` } : {}) }
          const sent = await send(`${server.url}/admin/v1${input.path}`, input.method, headers, input.body)
          assert.ok(sent.status < 500, `5xx for ${input.method} ${input.path}: ${sent.status} ${sent.text}`)
          assert.ok(!showsInternals(sent.text), `internals shown: ${sent.text}`)
          if (sent.status >= 400 && input.method !== 'HEAD') assert.ok(isProblem(sent.status, sent.contentType, sent.body), `not a problem: ${sent.status} ${sent.text}`)
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('never answers 5xx at POST and PATCH /clients for random sign-in settings; a 201 keeps the rules, errors are problems', async () => {
    // Mostly well-formed (so that creates and updates do succeed), with wrong values and wrong types mixed in.
    const often = <T,>(valid: fc.Arbitrary<T>, wrong: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> => fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: wrong, weight: 1 })
    const goodUri = fc.constantFrom('https://app.example.com/cb', 'http://127.0.0.1:8080/cb', 'http://[::1]/cb', 'http://localhost:3000/cb', 'com.example.app:/cb', 'https://app.example.com/cb?x=1')
    const badUri = fc.oneof(
      fc.constantFrom(
        'javascript:alert(1)',
        'JAVASCRIPT:alert(1)',
        'data:text/html,x',
        'http://evil.example/cb',
        'https://a.example/cb#frag',
        '/cb',
        '',
        ' https://a.example/cb',
        'https://a.example/\u0000',
        'https://a.example/\u2028',
        'myapp:/cb',
        'https://bücher.example/cb',
        `https://a.example/${'x'.repeat(2100)}`,
      ),
      fc.webUrl({ withFragments: true, withQueryParameters: true }),
      fc.string({ maxLength: 40 }),
    )
    const uri = fc.oneof({ arbitrary: goodUri, weight: 5 }, { arbitrary: badUri, weight: 1 })
    const wrongType = fc.constantFrom<unknown>(1, 0, 'true', null, {}, [], 'https://a.example/cb', [1], [null], -1.5)
    const publicGrants = fc.subarray(['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'], { minLength: 1 })
    const anyGrants = fc.subarray(['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'client_credentials', 'password', 'api_key', 'device_code', 'implicit'])
    const settings = fc.record(
      {
        name: often(fc.constantFrom('fuzzed', 'Fuzzed app'), fc.string({ maxLength: 20 })),
        token_endpoint_auth_method: often(fc.constantFrom('none', 'client_secret_basic', 'client_secret_post'), fc.oneof(fc.constantFrom('private_key_jwt', 'NONE', ''), wrongType)),
        application_type: often(fc.constantFrom('web', 'spa', 'native', 'device', 'machine', 'api_key', null), fc.oneof(fc.constant('desktop'), wrongType)),
        grant_types: often(publicGrants, fc.oneof(anyGrants, wrongType)),
        redirect_uris: often(fc.array(uri, { minLength: 1, maxLength: 4 }), fc.oneof(fc.constant([]), wrongType)),
        post_logout_redirect_uris: often(fc.array(uri, { maxLength: 3 }), wrongType),
        require_par: often(fc.boolean(), wrongType),
        skip_consent: often(fc.boolean(), wrongType),
        rotate_refresh_tokens: often(fc.boolean(), wrongType),
      },
      { requiredKeys: [] },
    )
    const publicClient = (await server.server.gatehouse.clients.create({ name: 'fuzz spa', tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code'], redirectUris: ['https://app.example.com/cb'] })).client.id
    const confidential = await server.createClient({ scopes: ['api'] })
    const allowedRedirect = (value: string): boolean => {
      if (value.includes('#') || /\s/.test(value)) return false
      const url = new URL(value)
      return url.protocol === 'https:' || (url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)) || (url.protocol.slice(0, -1).includes('.') && url.protocol !== 'http:')
    }
    await fc.assert(
      fc.asyncProperty(fc.record({ target: fc.constantFrom('create', 'public', 'confidential'), body: settings }), async ({ target, body }) => {
        const path = target === 'create' ? '/clients' : `/clients/${target === 'public' ? publicClient : confidential.id}`
        const sent = await send(`${server.url}/admin/v1${path}`, target === 'create' ? 'POST' : 'PATCH', { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, JSON.stringify(body))
        assert.ok(sent.status < 500, `5xx for ${target} ${JSON.stringify(body)}: ${sent.status} ${sent.text}`)
        assert.ok(!showsInternals(sent.text), `internals shown: ${sent.text}`)
        if (sent.status >= 400) {
          assert.ok(isProblem(sent.status, sent.contentType, sent.body), `not a problem: ${sent.status} ${sent.text}`)
          return
        }
        assert.ok(isObject(sent.body), sent.text)
        const client = sent.body
        if (target === 'create') assert.equal(sent.status, 201)
        // A public client has no secret member; a confidential one created here shows its secret once.
        if (client.token_endpoint_auth_method === 'none') assert.equal('client_secret' in client, false, sent.text)
        else if (target === 'create') assert.match(String(client.client_secret), /^[A-Za-z0-9_-]{43}$/)
        if (target === 'public') assert.equal(client.token_endpoint_auth_method, 'none')
        if (target === 'confidential') assert.notEqual(client.token_endpoint_auth_method, 'none')
        const grants = client.grant_types as string[]
        if (client.token_endpoint_auth_method === 'none') {
          assert.ok(grants.every((grant) => ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'].includes(grant)), sent.text)
          assert.equal(client.rotate_refresh_tokens, true)
        }
        if (grants.includes('authorization_code')) assert.ok((client.redirect_uris as string[]).length > 0, sent.text)
        for (const registered of [...(client.redirect_uris as string[]), ...(client.post_logout_redirect_uris as string[])]) assert.ok(allowedRedirect(registered), `registered ${registered}`)
        assert.equal(typeof client.require_par, 'boolean')
        assert.equal(typeof client.skip_consent, 'boolean')
      }),
      { numRuns: RUNS * 3 },
    )
  })

  it('never answers 5xx for any audience at /oauth/token, and errors are RFC 6749 §5.2', async () => {
    const audience = fc.oneof(
      fc.constantFrom(`${server.config.issuer}/admin/v1`, `${server.config.issuer}/admin/v1/`, `${server.config.issuer}/admin/v1//`, server.config.issuer, ''),
      fc.string({ maxLength: 60 }),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.record({ grant: fc.constantFrom('client_credentials', 'password'), audience, scope: fc.option(fc.constantFrom('api', '', 'management-api', '"'), { nil: undefined }) }),
        async (input) => {
          const fields: Record<string, string> = { grant_type: input.grant, audience: input.audience, client_id: client.id, client_secret: client.secret }
          if (input.grant === 'password') Object.assign(fields, { username: 'fuzz@example.com', password: 'fuzz-password-1' })
          if (input.scope !== undefined) fields.scope = input.scope
          const sent = await send(`${server.url}/oauth/token`, 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams(fields).toString())
          assert.ok(sent.status < 500, `5xx for ${JSON.stringify(input)}: ${sent.status} ${sent.text}`)
          assert.ok(!showsInternals(sent.text))
          if (sent.status >= 400) {
            assert.ok(isObject(sent.body) && typeof sent.body.error === 'string' && Object.keys(sent.body).every((key) => key === 'error' || key === 'error_description'), sent.text)
          }
        },
      ),
      { numRuns: RUNS },
    )
  })
})
