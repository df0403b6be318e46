import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import fc from 'fast-check'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { basicHeader } from '../helpers/http.js'
import { JWT_BEARER } from '../helpers/assertions.js'

/**
 * Property: client assertions are attacker-controlled JWTs. Whatever the client_assertion
 * parameters hold — random text, random JSON in a JWS shape, or any header and claims signed
 * for real with the client's registered key (so the deep checks, the jti store included, see
 * odd values) — at any endpoint that authenticates clients, in any dialect, the answer is never
 * a 5xx, never shows internals, and has the endpoint's documented shape.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 60)

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const DESCRIPTION_CHARS = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/
const showsInternals = (text: string): boolean => /\n\s+at |at .+\.(ts|js):\d+|node_modules|Error: /.test(text)
const b64 = (text: string): string => Buffer.from(text).toString('base64url')

function isOAuthError(body: unknown): boolean {
  if (!isObject(body) || typeof body.error !== 'string' || !/^[a-z_]+$/.test(body.error)) return false
  if (body.error_description !== undefined && (typeof body.error_description !== 'string' || !DESCRIPTION_CHARS.test(body.error_description))) return false
  return Object.keys(body).every((key) => key === 'error' || key === 'error_description')
}

const WRAPPED: Record<number, string> = { 400: '400013', 401: '401021', 403: '403001', 429: '429001' }
const isWrappedError = (status: number, body: unknown): boolean => isObject(body) && isObject(body.error) && body.error.code === WRAPPED[status]

describe('client assertions under arbitrary input (fast-check)', () => {
  let server: TestServer
  let clientId: string
  let secretClient: { id: string; secret: string }
  let privateKey: KeyObject

  before(async () => {
    server = await startTestServer({ env: { GATEHOUSE_RATE_LIMIT_FAILURES: '1000000/1m', GATEHOUSE_RATE_LIMIT_IP: '1000000/1m' } })
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    privateKey = pair.privateKey
    const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid: 'fuzz-1' }
    clientId = (
      await server.createClient({
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [jwk] },
        grantTypes: ['client_credentials', 'authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
        redirectUris: ['https://app.example.com/cb'],
        scopes: ['api', 'openid'],
      })
    ).id
    secretClient = await server.createClient({ grantTypes: ['client_credentials'], scopes: ['api'] })
  })
  after(() => server.close())

  /** Signs any header and payload text with the registered ES256 key (a real signature over odd JSON). */
  const signed = (header: unknown, payload: unknown): string => {
    const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`
    return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
  }

  const odd = (): fc.Arbitrary<unknown> => fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.json({ maxDepth: 2 }).map((text) => JSON.parse(text) as unknown))
  const claims = (): fc.Arbitrary<Record<string, unknown>> => {
    const now = Math.floor(Date.now() / 1000)
    return fc.record(
      {
        iss: fc.oneof(fc.constant(clientId), fc.constant(secretClient.id), odd()),
        sub: fc.oneof(fc.constant(clientId), fc.constant(secretClient.id), odd(), fc.constant('a\u0000b'), fc.constant('x'.repeat(500))),
        aud: fc.oneof(fc.constant(server.url), fc.constant(`${server.url}/oauth/token`), fc.array(fc.oneof(fc.constant(server.url), fc.string())), odd()),
        exp: fc.oneof(fc.constant(now + 60), fc.integer({ min: now - 600, max: now + 3600 }), odd()),
        iat: fc.oneof(fc.constant(now), fc.integer({ min: now - 600, max: now + 600 }), odd()),
        nbf: fc.oneof(fc.integer({ min: now - 600, max: now + 600 }), odd()),
        jti: fc.oneof(fc.uuid(), fc.string({ unit: 'binary', maxLength: 40 }), fc.constant('\u0000'), fc.constant('j'.repeat(300)), odd()),
      },
      { requiredKeys: [] },
    )
  }
  const header = (): fc.Arbitrary<Record<string, unknown>> =>
    fc.record(
      {
        alg: fc.oneof(fc.constantFrom('ES256', 'ES256', 'RS256', 'PS256', 'EdDSA', 'none', 'HS256', 'ES512', 'es256', ''), odd()),
        kid: fc.oneof(fc.constant('fuzz-1'), odd()),
        typ: fc.oneof(fc.constantFrom('JWT', 'client-authentication+jwt'), odd()),
        crit: fc.oneof(fc.array(fc.string()), odd()),
        jwk: fc.constant({ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', d: 'AA' }),
        b64: fc.boolean(),
      },
      { requiredKeys: ['alg'] },
    )
  const assertion = (): fc.Arbitrary<string> =>
    fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.tuple(fc.json({ maxDepth: 2 }), fc.json({ maxDepth: 2 }), fc.base64String({ maxLength: 100 })).map(([h, p, s]) => `${b64(h)}.${b64(p)}.${s.replace(/=+$/, '')}`),
      { arbitrary: fc.tuple(header(), claims()).map(([h, p]) => signed(h, p)), weight: 4 },
      fc.tuple(header(), claims()).map(([h, p]) => `${b64(JSON.stringify(h))}.${b64(JSON.stringify(p))}.`),
      // Good claims with one odd one, signed: the checks after the signature (exp, iat, jti, the store) see odd values.
      { arbitrary: fc.tuple(claims(), fc.constantFrom('iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti')).map(([odd, name]) => signed({ alg: 'ES256', kid: 'fuzz-1' }, { iss: clientId, sub: clientId, aud: server.url, exp: Math.floor(Date.now() / 1000) + 60, jti: crypto.randomUUID(), [name]: odd[name] })), weight: 4 },
      // The well-formed case, so the success path (and the jti store) is exercised too.
      { arbitrary: fc.uuid().map((jti) => signed({ alg: 'ES256', kid: 'fuzz-1' }, { iss: clientId, sub: clientId, aud: server.url, exp: Math.floor(Date.now() / 1000) + 60, jti })), weight: 2 },
    )

  /** Mostly what a client would send, so most cases reach the assertion checks; now and then a second method or a wrong type. */
  const rarely = <T,>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.oneof({ arbitrary: fc.constant(undefined), weight: 9 }, { arbitrary, weight: 1 })
  const fields = (): fc.Arbitrary<Record<string, string>> =>
    fc
      .record({
        client_assertion_type: fc.oneof({ arbitrary: fc.constant(JWT_BEARER), weight: 12 }, { arbitrary: fc.string({ maxLength: 60 }), weight: 1 }, { arbitrary: fc.constant(undefined), weight: 1 }),
        client_assertion: assertion(),
        client_id: fc.oneof(fc.constant(undefined), fc.constant(undefined), fc.constant(clientId), fc.constant(secretClient.id), fc.string({ maxLength: 30 })),
        client_secret: rarely(fc.oneof(fc.constant(secretClient.secret), fc.string({ maxLength: 30 }))),
        scope: fc.constantFrom('api', 'openid', undefined),
      })
      .map((record) => Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined && value !== '')) as Record<string, string>)

  const ENDPOINTS = ['/oauth/token', '/oauth/introspect', '/oauth/revoke', '/oauth/par', '/oauth/device_authorization', '/connect/token', '/connect/introspect', '/connect/revocation', '/v1/auth/token'] as const

  it('never a 5xx, at every endpoint that authenticates clients, in each dialect\'s shape', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), fields(), fc.boolean(), fc.integer({ min: 0, max: 9 }).map((n) => n === 0), async (path, input, json, basic) => {
        const extra: Record<string, string> =
          path.endsWith('/token') ? { grant_type: 'client_credentials' } : path === '/oauth/par' ? { response_type: 'code', redirect_uri: 'https://app.example.com/cb', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' } : path.endsWith('_authorization') ? {} : { token: 'some-token' }
        const body = { ...extra, ...input }
        const asJson = json && !path.startsWith('/connect/')
        const headers: Record<string, string> = { 'content-type': asJson ? 'application/json' : 'application/x-www-form-urlencoded', ...(basic ? { authorization: basicHeader(secretClient.id, secretClient.secret) } : {}) }
        const response = await fetch(`${server.url}${path}`, { method: 'POST', headers, body: asJson ? JSON.stringify(body) : new URLSearchParams(body).toString() })
        const text = await response.text()
        const parsed: unknown = text === '' ? undefined : JSON.parse(text)
        assert.ok(response.status < 500, `5xx at ${path}: ${response.status} ${text}`)
        assert.ok(!showsInternals(text), `internals shown: ${text}`)
        if (response.status === 200 || response.status === 201) return
        if (path === '/v1/auth/token') return assert.ok(isWrappedError(response.status, parsed), `${path}: ${response.status} ${text}`)
        assert.ok(isOAuthError(parsed), `${path}: ${response.status} ${text}`)
        if (path.startsWith('/connect/')) assert.ok([400, 429].includes(response.status), `${path}: ${response.status}`)
        else assert.ok([400, 401, 429].includes(response.status), `${path}: ${response.status} ${text}`)
        if (response.status === 401) assert.equal((parsed as { error: string }).error, 'invalid_client')
      }),
      { numRuns: RUNS },
    )
  })
})
