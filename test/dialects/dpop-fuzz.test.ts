import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { dpopKey, type DpopTestKey } from '../helpers/dpop.js'
import { request } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/**
 * Property: whatever `DPoP` header arrives at /oauth/token, /connect/token and /oauth/userinfo
 * (garbage, JWS-looking strings, well-formed JWTs with arbitrary header and claims, valid proofs
 * with one character changed), the answer is never a 5xx, never shows internals, and has the
 * documented shape: a token (200) or 400 invalid_dpop_proof at the token endpoints; UserInfo
 * or 401 with the RFC 9449 §7.1 DPoP challenge and the same error in JSON at the resource.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 60)
const PASSWORD = 'correct horse battery staple'
/** RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E. */
const DESCRIPTION = '[\\x20\\x21\\x23-\\x5B\\x5D-\\x7E]+'
const CHALLENGE = new RegExp(`^DPoP error="(invalid_dpop_proof|invalid_token)", error_description="(${DESCRIPTION})", algs="ES256 RS256 PS256 EdDSA"$`)

const showsInternals = (text: string): boolean => /\n\s+at |at .+\.(ts|js):\d+|node_modules|Error: /.test(text)
const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

/** Header values fetch can send: printable ASCII, no CR/LF. */
const printable = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,200}$/)
const segment = fc.stringMatching(/^[A-Za-z0-9_-]{0,60}$/)
const jsonValue = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }))
const headerObject = fc.record(
  {
    typ: fc.oneof(fc.constant('dpop+jwt'), fc.constant('JWT'), jsonValue),
    alg: fc.oneof(fc.constantFrom('ES256', 'RS256', 'PS256', 'EdDSA', 'none', 'HS256', 'ES512'), jsonValue),
    jwk: fc.oneof(
      fc.constant({ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }),
      fc.constant({ kty: 'oct', k: 'c2VjcmV0' }),
      fc.constant({ kty: 'OKP', crv: 'Ed25519', x: 'AAAA', d: 'AAAA' }),
      fc.record({ kty: fc.constantFrom('EC', 'RSA', 'OKP', 'oct', 'x'), n: fc.string({ maxLength: 10 }), e: fc.string({ maxLength: 4 }) }, { requiredKeys: [] }),
      jsonValue,
    ),
  },
  { requiredKeys: [] },
)
const claimsObject = fc.record({ htm: jsonValue, htu: jsonValue, iat: fc.oneof(fc.integer(), jsonValue), jti: jsonValue, ath: jsonValue, nonce: jsonValue }, { requiredKeys: [] })

describe('DPoP headers under arbitrary input (fast-check)', () => {
  let server: TestServer
  let client: { id: string; secret: string }
  let key: DpopTestKey
  let userToken: string

  before(async () => {
    server = await startTestServer()
    client = await server.createClient({ grantTypes: ['client_credentials', 'password'], scopes: ['api', 'openid'] })
    await server.createUser('ann@example.com', PASSWORD, 'Ann')
    key = await dpopKey()
    const tokenUrl = `${server.url}/oauth/token`
    const issued = await request(tokenUrl, {
      form: { grant_type: 'password', username: 'ann@example.com', password: PASSWORD, scope: 'openid', client_id: client.id, client_secret: client.secret },
      headers: { dpop: await key.proof({ htm: 'POST', htu: tokenUrl }) },
    })
    assert.equal(issued.status, 200, issued.text)
    userToken = (issued.body as { access_token: string }).access_token
  })
  after(async () => server?.close())

  /** Arbitrary DPoP values; `valid` makes a real proof for the endpoint, to be mutated. */
  const dpopValue = (valid: () => Promise<string>) =>
    fc.oneof(
      printable.map((value) => async () => value),
      fc.tuple(segment, segment, segment).map(([a, b, c]) => async () => `${a}.${b}.${c}`),
      fc.tuple(headerObject, claimsObject, segment).map(([header, claims, signature]) => async () => `${b64(header)}.${b64(claims)}.${signature}`),
      fc.tuple(fc.nat(), fc.constantFrom(...'AZaz09-_.=')).map(([at, char]) => async () => {
        const proof = await valid()
        const index = at % proof.length
        return proof.slice(0, index) + char + proof.slice(index + 1)
      }),
    )

  for (const path of ['/oauth/token', '/connect/token']) {
    it(`${path}: a token or 400 invalid_dpop_proof, never a 5xx`, async () => {
      const url = server.url + path
      const htu = `${server.config.issuer}${path}`
      await fc.assert(
        fc.asyncProperty(dpopValue(() => key.proof({ htm: 'POST', htu })), async (make) => {
          const dpop = await make()
          const answer = await request(url, { form: { grant_type: 'client_credentials', scope: 'api', client_id: client.id, client_secret: client.secret }, headers: { dpop } })
          assert.ok(answer.status < 500, `${answer.status} for ${dpop}`)
          assert.ok(!showsInternals(answer.text), answer.text)
          if (answer.status === 200) {
            // A mutation that left the proof valid (e.g. a changed base64url padding bit), or a header trimmed to nothing.
            assert.ok(['DPoP', 'Bearer'].includes((answer.body as { token_type: string }).token_type))
            return
          }
          assert.equal(answer.status, 400, answer.text)
          const body = answer.body as Record<string, unknown>
          assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description'], answer.text)
          assert.equal(body.error, 'invalid_dpop_proof')
          assert.match(String(body.error_description), new RegExp(`^${DESCRIPTION}$`))
        }),
        { numRuns: RUNS },
      )
    })
  }

  it('/oauth/userinfo: UserInfo or 401 with the DPoP challenge and the same error in JSON, never a 5xx', async () => {
    const url = `${server.url}/oauth/userinfo`
    const htu = `${server.config.issuer}/oauth/userinfo`
    await fc.assert(
      fc.asyncProperty(dpopValue(() => key.proof({ htm: 'GET', htu, accessToken: userToken })), async (make) => {
        const dpop = await make()
        const answer = await request(url, { headers: { authorization: `DPoP ${userToken}`, dpop } })
        assert.ok(answer.status < 500, `${answer.status} for ${dpop}`)
        assert.ok(!showsInternals(answer.text), answer.text)
        // A "mutation" may leave the proof valid (the same character, or the unused low bits of a
        // segment's last base64url character): then UserInfo answers; the token has only openid, so just sub.
        if (answer.status === 200) {
          assert.equal(typeof (answer.body as { sub: unknown }).sub, 'string')
          return
        }
        assert.equal(answer.status, 401, answer.text)
        const challenge = CHALLENGE.exec(answer.headers.get('www-authenticate') ?? '')
        assert.ok(challenge, `challenge: ${answer.headers.get('www-authenticate')}`)
        assert.deepEqual(answer.body, { error: challenge[1], error_description: challenge[2] })
      }),
      { numRuns: RUNS },
    )
  })
})
