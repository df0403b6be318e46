import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import Fastify from 'fastify'
import { fastifyBearerAuth } from '../../src/sdk/fastify.js'
import { createVerifier, BearerTokenError, type Verifier } from '../../src/sdk/verify.js'
import { request } from '../helpers/http.js'
import { freePort } from '../helpers/server.js'
import { signToken, startJwksServer, startProtectedApps, testKey, type JwksServer, type ProtectedApps, type TestKey } from './support.js'

const ISSUER = 'https://issuer.test'
const AUDIENCE = 'https://api.test'
const REALM = 'test'
const NOW = Date.UTC(2026, 0, 1)
const nowSeconds = NOW / 1000

const INVALID = `Bearer realm="${REALM}", error="invalid_token", error_description="The access token is invalid"`
const INVALID_BODY = { error: 'invalid_token', error_description: 'The access token is invalid' }

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'user-1',
    client_id: 'client-1',
    iat: nowSeconds - 10,
    exp: nowSeconds + 3600,
    jti: 'jti-1',
    scope: 'openid integrated-api',
    ...overrides,
  }
}

/** An unsecured JWT (RFC 7519 §6): header alg none, empty signature. */
function unsecuredToken(payload: Record<string, unknown>): string {
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${encode({ alg: 'none', typ: 'at+jwt', kid: 'key-1' })}.${encode(payload)}.`
}

describe('the verifier behind the Fastify plugin and the Express middleware', () => {
  let key: TestKey
  let otherKey: TestKey
  let jwks: JwksServer
  let verifier: Verifier
  let apps: ProtectedApps

  before(async () => {
    key = await testKey('key-1')
    otherKey = await testKey('key-2')
    jwks = await startJwksServer([key.publicJwk])
    verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: jwks.url, clock: { now: () => NOW }, jwksCooldownMs: 0 })
    apps = await startProtectedApps(verifier, REALM, ['integrated-api'])
  })
  after(async () => {
    await apps.close()
    await jwks.close()
  })

  /** Sends the same request to both apps and checks that both answer exactly `expected`. */
  async function expectBoth(headers: Record<string, string>, expected: { status: number; challenge?: string; body?: unknown }, path = '/whoami'): Promise<void> {
    for (const [name, base] of [['fastify', apps.fastify], ['express', apps.express]] as const) {
      const answer = await request(`${base}${path}`, { headers })
      assert.deepEqual(
        { status: answer.status, challenge: answer.headers.get('www-authenticate') ?? undefined, body: answer.body },
        { status: expected.status, challenge: expected.challenge, body: expected.body },
        `${name} answered differently`,
      )
    }
  }

  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

  it('lets a valid token through and hands the handler its subject, client and scopes', async () => {
    await expectBoth(bearer(await signToken(key, claims())), {
      status: 200,
      body: { format: 'jwt', subject: 'user-1', clientId: 'client-1', scopes: ['openid', 'integrated-api'] },
    })
  })

  it('answers a request without credentials with 401 and only the realm (RFC 6750 §3.1)', async () => {
    await expectBoth({}, { status: 401, challenge: `Bearer realm="${REALM}"` })
  })

  it('treats another scheme (Basic) like no credentials', async () => {
    await expectBoth({ authorization: 'Basic dXNlcjpwYXNz' }, { status: 401, challenge: `Bearer realm="${REALM}"` })
  })

  it('answers 400 invalid_request to a Bearer header without a token or with two', async () => {
    const expected = {
      status: 400,
      challenge: `Bearer realm="${REALM}", error="invalid_request", error_description="The Authorization header must be Bearer followed by one token"`,
      body: { error: 'invalid_request', error_description: 'The Authorization header must be Bearer followed by one token' },
    }
    await expectBoth({ authorization: 'Bearer' }, expected)
    await expectBoth({ authorization: 'Bearer one two' }, expected)
  })

  it('answers 400 invalid_request to a token in the query string', async () => {
    const description = 'Send the access token in the Authorization header, not in the URL'
    await expectBoth({}, {
      status: 400,
      challenge: `Bearer realm="${REALM}", error="invalid_request", error_description="${description}"`,
      body: { error: 'invalid_request', error_description: description },
    }, `/whoami?access_token=${await signToken(key, claims())}`)
  })

  it('refuses an expired token with 401 invalid_token', async () => {
    await expectBoth(bearer(await signToken(key, claims({ iat: nowSeconds - 7200, exp: nowSeconds - 60 }))), {
      status: 401,
      challenge: `Bearer realm="${REALM}", error="invalid_token", error_description="The access token expired"`,
      body: { error: 'invalid_token', error_description: 'The access token expired' },
    })
  })

  it('accepts a token expired by less than the clock tolerance (5 s)', async () => {
    await expectBoth(bearer(await signToken(key, claims({ exp: nowSeconds - 4 }))), {
      status: 200,
      body: { format: 'jwt', subject: 'user-1', clientId: 'client-1', scopes: ['openid', 'integrated-api'] },
    })
  })

  it('refuses a token that is not valid yet (nbf) with 401 invalid_token', async () => {
    await expectBoth(bearer(await signToken(key, claims({ nbf: nowSeconds + 600 }))), {
      status: 401,
      challenge: `Bearer realm="${REALM}", error="invalid_token", error_description="The access token is not valid yet"`,
      body: { error: 'invalid_token', error_description: 'The access token is not valid yet' },
    })
  })

  it('refuses a token of another issuer', async () => {
    await expectBoth(bearer(await signToken(key, claims({ iss: 'https://evil.test' }))), { status: 401, challenge: INVALID, body: INVALID_BODY })
  })

  it('refuses a token for another audience', async () => {
    await expectBoth(bearer(await signToken(key, claims({ aud: 'https://other-api.test' }))), { status: 401, challenge: INVALID, body: INVALID_BODY })
  })

  it('refuses a JWT that is not an access token (typ JWT, e.g. an ID token)', async () => {
    await expectBoth(bearer(await signToken(key, claims(), { typ: 'JWT' })), { status: 401, challenge: INVALID, body: INVALID_BODY })
  })

  it('refuses a token whose signature was tampered with', async () => {
    const token = await signToken(key, claims())
    const [header, payload, signature = ''] = token.split('.')
    const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1)
    await expectBoth(bearer(`${header}.${payload}.${flipped}`), { status: 401, challenge: INVALID, body: INVALID_BODY })
    // A payload changed under the original signature fails the same way.
    const widened = Buffer.from(JSON.stringify(claims({ scope: 'openid integrated-api management-api' }))).toString('base64url')
    await expectBoth(bearer(`${header}.${widened}.${signature}`), { status: 401, challenge: INVALID, body: INVALID_BODY })
  })

  it('refuses alg none', async () => {
    await expectBoth(bearer(unsecuredToken(claims())), { status: 401, challenge: INVALID, body: INVALID_BODY })
  })

  it('refuses a token without a required RFC 9068 claim (client_id)', async () => {
    const { client_id: _omitted, ...rest } = claims()
    await expectBoth(bearer(await signToken(key, rest)), { status: 401, challenge: INVALID, body: INVALID_BODY })
  })

  it('refuses a token without the required scope with 403 insufficient_scope naming the scope', async () => {
    await expectBoth(bearer(await signToken(key, claims({ scope: 'openid profile' }))), {
      status: 403,
      challenge: `Bearer realm="${REALM}", error="insufficient_scope", error_description="The access token does not grant the required scope", scope="integrated-api"`,
      body: { error: 'insufficient_scope', error_description: 'The access token does not grant the required scope' },
    })
  })

  it('refuses an opaque token when no introspection is configured', async () => {
    await expectBoth(bearer('sk-0123456789abcdef0123456789abcdef'), { status: 401, challenge: INVALID, body: INVALID_BODY })
  })

  it('refuses a token signed by an unknown kid, then accepts it once the issuer publishes the rotated key', async () => {
    const token = await signToken(otherKey, claims())
    const before = jwks.fetches
    await expectBoth(bearer(token), { status: 401, challenge: INVALID, body: INVALID_BODY })
    assert.ok(jwks.fetches > before, 'an unknown kid makes the verifier fetch the JWKS again')
    jwks.keys = [otherKey.publicJwk, key.publicJwk]
    await expectBoth(bearer(token), {
      status: 200,
      body: { format: 'jwt', subject: 'user-1', clientId: 'client-1', scopes: ['openid', 'integrated-api'] },
    })
  })
})

describe('the verifier on its own', () => {
  it('fetches the JWKS again for unknown kids at most once per cooldown', async () => {
    const key = await testKey('key-1')
    const stranger = await testKey('stranger')
    const jwks = await startJwksServer([key.publicJwk])
    try {
      const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: jwks.url, clock: { now: () => NOW }, jwksCooldownMs: 60_000 })
      await verifier.verify(await signToken(key, claims()))
      assert.equal(jwks.fetches, 1)
      for (let i = 0; i < 5; i++) {
        await assert.rejects(verifier.verify(await signToken(stranger, claims())), { name: 'BearerTokenError', reason: 'unknown_key' })
      }
      // The first fetch is within the cooldown too (jose counts from the last successful fetch).
      assert.equal(jwks.fetches, 1)
    } finally {
      await jwks.close()
    }
  })

  it('says which check failed in the error reason, while the wire says only invalid_token', async () => {
    const key = await testKey('key-1')
    const jwks = await startJwksServer([key.publicJwk])
    try {
      const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: jwks.url, clock: { now: () => NOW } })
      const cases: [Record<string, unknown>, Record<string, unknown>, string][] = [
        [claims({ iss: 'https://evil.test' }), {}, 'issuer'],
        [claims({ aud: 'nope' }), {}, 'audience'],
        [claims(), { typ: 'JWT' }, 'typ'],
      ]
      for (const [payload, header, reason] of cases) {
        const error = await verifier.verify(await signToken(key, payload, header)).then(() => undefined, (caught: unknown) => caught)
        assert.ok(error instanceof BearerTokenError)
        assert.deepEqual({ code: error.code, status: error.status, reason: error.reason }, { code: 'invalid_token', status: 401, reason })
      }
    } finally {
      await jwks.close()
    }
  })

  it('adds per-call scopes to its own', async () => {
    const key = await testKey('key-1')
    const jwks = await startJwksServer([key.publicJwk])
    try {
      const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: jwks.url, clock: { now: () => NOW }, requiredScopes: ['openid'] })
      const token = await signToken(key, claims({ scope: 'openid integrated-api' }))
      assert.equal((await verifier.verify(token, { requiredScopes: ['integrated-api'] })).subject, 'user-1')
      const error = await verifier.verify(token, { requiredScopes: ['management-api'] }).catch((caught: unknown) => caught)
      assert.ok(error instanceof BearerTokenError)
      assert.equal(error.challenge('api'), 'Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant the required scope", scope="openid management-api"')
    } finally {
      await jwks.close()
    }
  })

  it('lets an error that is not the token’s fault (JWKS unreachable) through as a 500, not a 401', async () => {
    const key = await testKey('key-1')
    const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: `http://127.0.0.1:${await freePort()}/jwks.json`, clock: { now: () => NOW } })
    const apps = await startProtectedApps(verifier, REALM)
    try {
      const token = await signToken(key, claims())
      for (const base of [apps.fastify, apps.express]) {
        const answer = await request(`${base}/whoami`, { headers: { authorization: `Bearer ${token}` } })
        assert.equal(answer.status, 500)
        assert.equal(answer.headers.get('www-authenticate'), null)
      }
    } finally {
      await apps.close()
    }
  })
})

describe('the Fastify plugin’s route settings', () => {
  it('adds a route’s own scopes, leaves public routes open, and can be registered again in a child context', async () => {
    const key = await testKey('key-1')
    const jwks = await startJwksServer([key.publicJwk])
    const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: jwks.url, clock: { now: () => NOW } })
    const app = Fastify()
    try {
      await app.register(fastifyBearerAuth, { verifier, realm: REALM, requiredScopes: ['openid'] })
      await app.register(async (admin) => {
        await admin.register(fastifyBearerAuth, { verifier, realm: 'admin', requiredScopes: ['openid'] })
        admin.get('/admin', { config: { gatehouse: { scopes: ['management-api'] } } }, async () => ({ ok: true }))
      })
      app.get('/open', { config: { gatehouse: { public: true } } }, async (request) => ({ token: request.accessToken }))
      app.get('/records', async (request) => ({ subject: request.accessToken?.subject }))
      const headers = { authorization: `Bearer ${await signToken(key, claims({ scope: 'openid integrated-api' }))}` }

      const answers = await Promise.all([
        app.inject({ url: '/open' }),
        app.inject({ url: '/records', headers }),
        app.inject({ url: '/admin', headers }),
      ])
      assert.deepEqual(
        answers.map((answer) => ({ status: answer.statusCode, challenge: answer.headers['www-authenticate'], body: answer.body })),
        [
          { status: 200, challenge: undefined, body: '{"token":null}' },
          { status: 200, challenge: undefined, body: '{"subject":"user-1"}' },
          {
            status: 403,
            // The outer registration's hook runs first (Fastify hooks are inherited), with its realm.
            challenge: 'Bearer realm="test", error="insufficient_scope", error_description="The access token does not grant the required scope", scope="openid management-api"',
            body: '{"error":"insufficient_scope","error_description":"The access token does not grant the required scope"}',
          },
        ],
      )
    } finally {
      await app.close()
      await jwks.close()
    }
  })
})
