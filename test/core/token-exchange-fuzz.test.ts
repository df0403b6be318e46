import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request } from '../helpers/http.js'

/**
 * Property: whatever a client sends as a token exchange (RFC 8693) — or as a resource indicator
 * (RFC 8707) — the answer is a 200 with an access token or an RFC 6749 §5.2 error with one of the
 * codes those RFCs name; never a 5xx, never a stack trace, never the token it was given.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 60)
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const TYPES = ['urn:ietf:params:oauth:token-type:access_token', 'urn:ietf:params:oauth:token-type:refresh_token', 'urn:ietf:params:oauth:token-type:jwt', 'urn:gatehouse:params:oauth:token-type:api-key', 'urn:x:other']
const CODES = new Set(['invalid_request', 'invalid_client', 'invalid_grant', 'invalid_scope', 'invalid_target', 'unauthorized_client', 'invalid_dpop_proof'])

describe('token exchange and resource indicators: property test', () => {
  let server: TestServer
  let client: { id: string; secret: string }
  let realToken: string

  before(async () => {
    server = await startTestServer()
    client = await server.createClient({ grantTypes: [EXCHANGE, 'client_credentials'], scopes: ['api'], resources: ['https://a.example.com/', 'https://b.example.com/'], allowImpersonation: true, audience: 'https://a.example.com/' })
    const answer = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client })
    realToken = String((answer.body as Record<string, unknown>).access_token)
  })
  after(() => server.close())

  const text = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('https://a.example.com/', 'https://b.example.com/', 'https://c.example.com/', 'a b', 'x#y', '', '\u00e9'))
  const token = () => fc.oneof(fc.string({ maxLength: 80 }), fc.constant(realToken), fc.constant(`${realToken}x`), fc.constant('a.b.c'))

  it('answers every exchange with a token or a documented error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            subject_token: token(),
            subject_token_type: fc.constantFrom(...TYPES),
            actor_token: token(),
            actor_token_type: fc.constantFrom(...TYPES),
            requested_token_type: fc.constantFrom(...TYPES),
            scope: fc.constantFrom('api', 'other', 'api other', ''),
            audience: text,
          },
          { requiredKeys: [] },
        ),
        fc.array(text, { maxLength: 3 }),
        async (fields, resources) => {
          const form = new URLSearchParams([['grant_type', EXCHANGE], ...Object.entries(fields).map(([name, value]) => [name, String(value)] as [string, string])])
          for (const resource of resources) form.append('resource', resource)
          const answer = await request(`${server.url}/oauth/token`, { form: form.toString(), basic: client })
          assert.ok(answer.status < 500, `${answer.status} ${answer.text}`)
          assert.doesNotMatch(answer.text, /\n\s+at |node_modules|Error: /)
          assert.equal(answer.headers.get('cache-control'), 'no-store')
          const body = answer.body as Record<string, unknown>
          if (answer.status === 200) {
            assert.equal(body.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token')
            assert.equal(typeof body.access_token, 'string')
            return
          }
          assert.ok(CODES.has(String(body.error)), answer.text)
          assert.ok(!answer.text.includes(realToken), 'an error never echoes the token it was given')
        },
      ),
      { numRuns: RUNS },
    )
  })
})
