import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyRequest } from 'fastify'
import { wrapped } from '../../src/http/dialects/wrapped.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request, type HttpAnswer } from '../helpers/http.js'
import { introspect, runCurl, verifyWithJwks } from './support.js'

/** Seed 003's example request, verbatim; the test only sets API_URL and the credentials. */
const SEED_CURL = `curl -X POST "\${API_URL}/auth/token" \\
-H "Content-Type: application/x-www-form-urlencoded" \\
-d "client_id=YOUR_CLIENT_ID" \\
-d "client_secret=YOUR_CLIENT_SECRET"`

const ERRORS = {
  400: { error: { code: '400013', code_reason: 'invalid_request', message: 'Missing or invalid parameters' } },
  401: { error: { code: '401021', code_reason: 'invalid_client', message: 'Invalid client_id, client_secret, or session_key' } },
  403: { error: { code: '403001', code_reason: 'forbidden', message: 'Access forbidden for this resource' } },
  404: { error: { code: '404001', code_reason: 'not_found', message: 'Resource or endpoint not found' } },
  429: { error: { code: '429001', code_reason: 'rate_limited', message: 'Too many requests' } },
  500: { error: { code: '500999', code_reason: 'API_ERROR', message: 'Api Error, please contact customer service' } },
} as const

const answerOf = (answer: HttpAnswer): { status: number; body: unknown } => ({ status: answer.status, body: answer.body })
const wrappedError = (status: keyof typeof ERRORS): { status: number; body: unknown } => ({ status, body: ERRORS[status] })

describe('wrapped dialect (seed 003)', () => {
  let server: TestServer
  let opaque: { id: string; secret: string }
  let jwt: { id: string; secret: string }
  let auditor: { id: string; secret: string }

  const token = (form: Record<string, string> | string): Promise<HttpAnswer> => request(`${server.url}/v1/auth/token`, { form })

  before(async () => {
    server = await startTestServer()
    opaque = await server.createClient({ tokenFormat: 'opaque' })
    jwt = await server.createClient()
    auditor = await server.createClient()
  })
  after(() => server.close())

  it('answers the seed curl exactly like its response sample', async () => {
    const command = `API_URL=${server.url}/v1; ${SEED_CURL.replace('YOUR_CLIENT_ID', opaque.id).replace('YOUR_CLIENT_SECRET', opaque.secret)}`
    const answer = await runCurl(command)
    assert.equal(answer.status, 200, answer.text)
    assert.match(answer.headers['content-type'] ?? '', /^application\/json/)
    assert.equal(answer.headers['cache-control'], 'no-store')
    const body = answer.body as { data: Record<string, unknown> }
    assert.deepEqual(Object.keys(body), ['data'])
    assert.deepEqual(Object.keys(body.data), ['access_token', 'token_type', 'expires_in'])
    assert.match(body.data.access_token as string, /^sk-[0-9a-f]{32}$/)
    assert.deepEqual({ token_type: body.data.token_type, expires_in: body.data.expires_in }, { token_type: 'Bearer', expires_in: 3600 })
    const looked = await introspect(server.url, auditor, body.data.access_token as string)
    assert.deepEqual([looked.active, looked.client_id], [true, opaque.id])
  })

  it('gives a JWT client a JWT that verifies with the JWKS alone, and takes a JSON body and grant_type too', async () => {
    const answer = await request(`${server.url}/v1/auth/token`, { json: { client_id: jwt.id, client_secret: jwt.secret, grant_type: 'client_credentials' } })
    assert.equal(answer.status, 200, answer.text)
    const { data } = answer.body as { data: { access_token: string } }
    assert.equal((await verifyWithJwks(server.url, data.access_token)).client_id, jwt.id)
    assert.equal((await introspect(server.url, auditor, data.access_token)).active, true)
  })

  describe('the error table', () => {
    const rows: [string, () => Promise<HttpAnswer>, keyof typeof ERRORS][] = [
      ['no body at all', () => request(`${server.url}/v1/auth/token`, { method: 'POST' }), 400],
      ['a missing client_secret', () => token({ client_id: opaque.id }), 400],
      ['a missing client_id', () => token({ client_secret: opaque.secret }), 400],
      ['a grant_type other than client_credentials', () => token({ client_id: opaque.id, client_secret: opaque.secret, grant_type: 'password' }), 400],
      ['a repeated parameter', () => token(`client_id=${opaque.id}&client_id=${opaque.id}&client_secret=x`), 400],
      ['a body of another content type', () => request(`${server.url}/v1/auth/token`, { raw: { contentType: 'text/plain', body: 'client_id=a' } }), 400],
      ['malformed JSON', () => request(`${server.url}/v1/auth/token`, { raw: { contentType: 'application/json', body: '{"client_id":' } }), 400],
      ['a scope the client may not have', () => token({ client_id: opaque.id, client_secret: opaque.secret, scope: 'admin' }), 400],
      ['a wrong client_secret', () => token({ client_id: opaque.id, client_secret: 'wrong' }), 401],
      ['an unknown client_id', () => token({ client_id: 'nobody', client_secret: 'wrong' }), 401],
      ['an unknown /v1/ path', () => request(`${server.url}/v1/users/42`), 404],
      ['a near miss of the token path', () => request(`${server.url}/v1/auth/tokens`, { form: { client_id: 'a' } }), 404],
      ['the token path with GET', () => request(`${server.url}/v1/auth/token`), 404],
    ]
    for (const [name, send, status] of rows) {
      it(`answers ${name} with ${ERRORS[status].error.code}`, async () => {
        const answer = await send()
        assert.deepEqual(answerOf(answer), wrappedError(status))
      })
    }

    it('answers 403001 for a client that may not use client_credentials', async () => {
      const userOnly = await server.createClient({ grantTypes: ['password'] })
      assert.deepEqual(answerOf(await token({ client_id: userOnly.id, client_secret: userOnly.secret })), wrappedError(403))
    })

    it('answers 429001 for a rate limiter\'s rejection', () => {
      const limited = Object.assign(new Error('Rate limit exceeded'), { statusCode: 429 })
      const answer = wrapped.formatError(limited, {} as FastifyRequest)
      assert.deepEqual({ status: answer.status, body: answer.body }, wrappedError(429))
    })

    it('answers 500999 for an unexpected failure, logged with the request id and never shown', async () => {
      const engine = server.server.gatehouse.engine
      const original = engine.token.bind(engine)
      engine.token = async () => {
        throw new Error('disk on fire at /var/lib/secret-path')
      }
      try {
        const answer = await request(`${server.url}/v1/auth/token`, { form: { client_id: opaque.id, client_secret: opaque.secret }, headers: { 'x-request-id': 'wrapped-500-test' } })
        // Every 5xx body names the request id (issue 7).
        assert.deepEqual(answerOf(answer), { status: 500, body: { ...ERRORS[500], request_id: 'wrapped-500-test' } })
        assert.ok(!answer.text.includes('disk on fire') && !answer.text.includes('at '), 'no detail or stack in the answer')
        const logged = server.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.reqId === 'wrapped-500-test' && line.level === 50)
        assert.ok(logged, 'the failure is logged at error level with the request id')
        assert.match(JSON.stringify(logged), /disk on fire/)
      } finally {
        engine.token = original
      }
    })

    it('leaves paths outside /v1/ to the standard not-found answer', async () => {
      const answer = await request(`${server.url}/v9/auth/token`)
      assert.deepEqual(answerOf(answer), { status: 404, body: { error: 'not_found', error_description: 'No route for GET /v9/auth/token.' } })
    })
  })
})
