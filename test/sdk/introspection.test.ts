import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, beforeEach, describe, it } from 'node:test'
import { ManualClock } from '../../src/core/clock.js'
import { BearerTokenError, createVerifier, type Verifier } from '../../src/sdk/verify.js'
import { closeServer, listen } from './support.js'

const ISSUER = 'https://issuer.test'
const AUDIENCE = 'https://api.test'
const TOKEN = 'sk-0123456789abcdef0123456789abcdef'

/** A scripted RFC 7662 endpoint: answers what the test sets, records what it was sent. */
interface Introspector {
  url: string
  answer: { status: number; body: Record<string, unknown> }
  requests: { authorization: string | undefined; body: string }[]
}

async function rejection(promise: Promise<unknown>): Promise<BearerTokenError> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (caught: unknown) => caught,
  )
  assert.ok(error instanceof BearerTokenError, `expected a BearerTokenError, got ${String(error)}`)
  return error
}

describe('opaque tokens through introspection', () => {
  const clock = new ManualClock()
  const nowSeconds = (): number => Math.floor(clock.now() / 1000)
  const introspector: Introspector = { url: '', answer: { status: 200, body: {} }, requests: [] }
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => {
      introspector.requests.push({ authorization: request.headers.authorization, body })
      // Answer a little later, so concurrent checks really overlap.
      setTimeout(() => response.writeHead(introspector.answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(introspector.answer.body)), 20)
    })
  })
  let verifier: Verifier

  function active(overrides: Record<string, unknown> = {}): { status: number; body: Record<string, unknown> } {
    return {
      status: 200,
      body: { active: true, iss: ISSUER, aud: AUDIENCE, sub: 'user-1', client_id: 'client-1', scope: 'api', exp: nowSeconds() + 600, iat: nowSeconds(), token_type: 'Bearer', ...overrides },
    }
  }

  before(async () => {
    introspector.url = `${await listen(server)}/oauth/introspect`
  })
  after(() => closeServer(server))
  beforeEach(() => {
    clock.set(Date.UTC(2026, 0, 1))
    introspector.requests = []
    introspector.answer = active()
    verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      clock,
      introspection: { url: introspector.url, clientId: 'resource server', clientSecret: 'rs+secret/=', cacheTtlSeconds: 60 },
    })
  })

  it('introspects with the resource server’s own credentials (RFC 6749 §2.3.1 Basic) and returns the token', async () => {
    const token = await verifier.verify(TOKEN)
    assert.deepEqual({ format: token.format, subject: token.subject, clientId: token.clientId, scopes: token.scopes }, { format: 'opaque', subject: 'user-1', clientId: 'client-1', scopes: ['api'] })
    assert.deepEqual(introspector.requests, [
      { authorization: 'Basic ' + Buffer.from('resource+server:rs%2Bsecret%2F%3D').toString('base64'), body: `token=${TOKEN}` },
    ])
  })

  it('reuses an answer for at most the cache TTL', async () => {
    await verifier.verify(TOKEN)
    clock.advance(59_000)
    await verifier.verify(TOKEN)
    assert.equal(introspector.requests.length, 1)
    clock.advance(2_000)
    await verifier.verify(TOKEN)
    assert.equal(introspector.requests.length, 2)
  })

  it('reuses an answer no longer than the token lives, then sees it expired', async () => {
    introspector.answer = active({ exp: nowSeconds() + 30 })
    await verifier.verify(TOKEN)
    clock.advance(29_000)
    await verifier.verify(TOKEN)
    assert.equal(introspector.requests.length, 1)
    clock.advance(2_000)
    introspector.answer = { status: 200, body: { active: false } }
    assert.deepEqual(await rejection(verifier.verify(TOKEN)).then((e) => [e.code, e.reason]), ['invalid_token', 'inactive'])
    assert.equal(introspector.requests.length, 2)
  })

  it('sends one request for 50 concurrent checks of the same token', async () => {
    const tokens = await Promise.all(Array.from({ length: 50 }, () => verifier.verify(TOKEN)))
    assert.equal(tokens.length, 50)
    assert.equal(introspector.requests.length, 1)
  })

  it('remembers an inactive answer for the TTL too', async () => {
    introspector.answer = { status: 200, body: { active: false } }
    for (let i = 0; i < 3; i++) await rejection(verifier.verify(TOKEN))
    assert.equal(introspector.requests.length, 1)
  })

  it('refuses what the answer says is not this API’s access token', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ token_type: 'refresh_token' }, 'claims'],
      [{ iss: 'https://evil.test' }, 'issuer'],
      [{ aud: 'https://other.test' }, 'audience'],
      [{ aud: undefined }, 'audience'],
      [{ exp: nowSeconds() - 1 }, 'expired'],
    ]
    for (const [overrides, reason] of cases) {
      const fresh = createVerifier({ issuer: ISSUER, audience: AUDIENCE, clock, introspection: { url: introspector.url, clientId: 'rs', clientSecret: 's' } })
      introspector.answer = active(overrides)
      const error = await rejection(fresh.verify(TOKEN))
      assert.deepEqual({ code: error.code, status: error.status, reason: error.reason }, { code: 'invalid_token', status: 401, reason }, JSON.stringify(overrides))
    }
  })

  it('accepts an aud list that contains its audience, and checks scopes on cached answers', async () => {
    introspector.answer = active({ aud: ['https://other.test', AUDIENCE] })
    await verifier.verify(TOKEN)
    const error = await rejection(verifier.verify(TOKEN, { requiredScopes: ['admin'] }))
    assert.deepEqual({ code: error.code, status: error.status, scope: error.requiredScope }, { code: 'insufficient_scope', status: 403, scope: 'admin' })
    assert.equal(introspector.requests.length, 1)
  })

  it('throws a plain error, not invalid_token, when introspection refuses the resource server', async () => {
    introspector.answer = { status: 401, body: { error: 'invalid_client' } }
    await assert.rejects(verifier.verify(TOKEN), (error: unknown) => error instanceof Error && !(error instanceof BearerTokenError) && /HTTP 401/.test(error.message))
  })
})
