import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createOperatorToken } from '../../src/core/admin/operator-token.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/**
 * Property: whatever reaches the operator routes, the unlock and end-sessions routes, secret
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
