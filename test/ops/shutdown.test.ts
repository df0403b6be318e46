import assert from 'node:assert/strict'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { request } from '../helpers/http.js'
import { runCli, spawnServer, type ServerProcess } from '../helpers/processes.js'

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('graceful shutdown of `gatehouse serve` on SIGTERM', () => {
  let dataDir: string
  let database: string
  let server: ServerProcess
  let client: { id: string; secret: string }

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-shutdown-'))
    database = `sqlite:${join(dataDir, 'gatehouse.db')}`
    await runCli(['migrate', '--database', database], { env: { GATEHOUSE_DATA_DIR: dataDir } })
    const created = await runCli(['clients', 'create', '--name', 'shutdown', '--grant', 'client_credentials', '--scope', 'api', '--json', '--database', database], { env: { GATEHOUSE_DATA_DIR: dataDir } })
    const json = created.json as { client_id: string; client_secret: string }
    client = { id: json.client_id, secret: json.client_secret }
    server = await spawnServer({ database, dataDir, env: { GATEHOUSE_LOG_LEVEL: 'info', GATEHOUSE_SHUTDOWN_TIMEOUT_MS: '5000' } })
  })
  after(async () => {
    await server.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('finishes a request under way, refuses new connections, closes the store and exits 0', async () => {
    assert.equal((await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client })).status, 200)

    // A request under way: headers sent, body still coming.
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret }).toString()
    const inFlight = httpRequest(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)), 'x-request-id': 'in-flight-1' },
    })
    const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
      inFlight.on('response', (response: IncomingMessage) => {
        let text = ''
        response.on('data', (chunk: Buffer) => (text += chunk.toString()))
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }))
      })
      inFlight.on('error', reject)
    })
    inFlight.write(body.slice(0, 10))
    await pause(300)

    const exited = server.stop()
    await pause(300)
    await assert.rejects(fetch(`${server.url}/healthz`), 'a new connection is refused while it drains')

    inFlight.end(body.slice(10))
    const answer = await answered
    assert.equal(answer.status, 200, answer.text)
    assert.equal((JSON.parse(answer.text) as { token_type: string }).token_type, 'Bearer')
    assert.equal(await exited, 0, 'exit code 0')

    const lines = server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    const messages = lines.map((line) => line.msg)
    assert.ok(messages.includes('shutting down: no new connections, finishing requests under way'))
    assert.ok(messages.includes('stopped'))
    // Every line about a request carries its id.
    const requestLines = lines.filter((line) => line.req !== undefined || line.res !== undefined || line.responseTime !== undefined)
    // One access line per request (src/http/access-log.ts): at least the two token requests.
    assert.ok(requestLines.length >= 2)
    assert.ok(!messages.includes('incoming request'))
    for (const line of requestLines) assert.equal(typeof line.reqId, 'string', JSON.stringify(line))
    assert.ok(lines.some((line) => line.reqId === 'in-flight-1' && line.msg === 'request completed'), 'the in-flight request completed and was logged with its id')
  })

  it('writes every access line of a burst before it exits (the buffered log destination is flushed)', async () => {
    const burst = await spawnServer({ database, dataDir, env: { GATEHOUSE_LOG_LEVEL: 'info' } })
    // Fewer lines than the 4 KiB buffer holds and SIGTERM at once: without the flush they would wait for a timer that never fires.
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => request(`${burst.url}/healthz`, { headers: { 'x-request-id': `burst-${i}` } })))
    assert.deepEqual(answers.map(({ status }) => status), Array(12).fill(200))
    assert.equal(await burst.stop(), 0)
    const completed = burst
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => typeof line.reqId === 'string' && line.reqId.startsWith('burst-') && line.msg === 'request completed')
    assert.deepEqual(completed.map(({ reqId }) => reqId).sort(), Array.from({ length: 12 }, (_, i) => `burst-${i}`).sort())
  })
})
