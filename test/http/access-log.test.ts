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
})
