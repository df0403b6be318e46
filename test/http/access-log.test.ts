import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { request } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

describe('access log: one line per request', () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer()
  })
  after(async () => server.close())

  const linesOf = (requestId: string): Record<string, unknown>[] =>
    server.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.reqId === requestId)

  it('writes only "request completed", with method, path, address, status and time', async () => {
    const answer = await request(`${server.url}/healthz?probe=1`, { headers: { 'x-request-id': 'access-1' } })
    assert.equal(answer.status, 200)
    const lines = linesOf('access-1')
    assert.equal(lines.length, 1, JSON.stringify(lines))
    const [line] = lines as [Record<string, unknown>]
    assert.equal(line.msg, 'request completed')
    assert.equal(line.level, 30)
    assert.deepEqual(line.req, { method: 'GET', path: '/healthz', remoteAddress: '127.0.0.1' })
    assert.deepEqual(line.res, { statusCode: 200 })
    assert.equal(typeof line.responseTime, 'number')
  })

  it('logs a refused token request the same way, after the reason line', async () => {
    const answer = await request(`${server.url}/oauth/token`, {
      form: { grant_type: 'client_credentials' },
      basic: { id: 'nobody', secret: 'wrong' },
      headers: { 'x-request-id': 'access-2' },
    })
    assert.equal(answer.status, 401)
    const lines = linesOf('access-2')
    assert.deepEqual(
      lines.map(({ msg }) => msg),
      ['invalid_client: Client authentication failed.', 'request completed'],
    )
    assert.deepEqual(lines[1]?.req, { method: 'POST', path: '/oauth/token', remoteAddress: '127.0.0.1' })
    assert.deepEqual(lines[1]?.res, { statusCode: 401 })
  })

  it('gives a request without a usable X-Request-Id its own id, echoed and logged', async () => {
    const answers = await Promise.all([
      request(`${server.url}/healthz`),
      request(`${server.url}/healthz`),
      request(`${server.url}/healthz`, { headers: { 'x-request-id': 'not an id; <script>' } }),
    ])
    const ids = answers.map((answer) => answer.headers.get('x-request-id') ?? '')
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{12}-[0-9a-z]+$/)
    assert.equal(new Set(ids).size, 3, 'three different ids')
    for (const id of ids) assert.deepEqual(linesOf(id).map(({ msg }) => msg), ['request completed'])
  })

  it('never writes the query string, where a careless client may have put its secret', async () => {
    const secret = 'query-secret-0123456789'
    const answer = await request(`${server.url}/oauth/token?grant_type=client_credentials&client_secret=${secret}`, { headers: { 'x-request-id': 'access-3' } })
    assert.equal(answer.status, 405)
    assert.deepEqual(linesOf('access-3').at(-1)?.req, { method: 'GET', path: '/oauth/token', remoteAddress: '127.0.0.1' })
    assert.ok(!server.logs.text.includes(secret))
  })
})
