import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startTestServer, TEST_SECRET, type TestServer } from './helpers/server.js'
import { request } from './helpers/http.js'

/**
 * A full run of every flow at debug log level, then a scan of every captured log line for
 * every secret the run used or received: client secrets, passwords, tokens, key material.
 */
describe('logs of a full run', () => {
  let server: TestServer
  const secrets = new Set<string>([TEST_SECRET])

  before(async () => {
    server = await startTestServer({ env: { GATEHOUSE_LOG_LEVEL: 'debug' } })
  })
  after(() => server.close())

  const remember = (body: unknown): void => {
    if (body && typeof body === 'object') {
      for (const [key, value] of Object.entries(body)) {
        if (typeof value === 'string' && /token|secret|key/i.test(key)) secrets.add(value)
        else if (value && typeof value === 'object') remember(value)
      }
    }
  }

  it('exercises every endpoint, happy and unhappy', async () => {
    const jwt = await server.createClient({ scopes: ['api'] })
    const opaque = await server.createClient({ scopes: ['api'], tokenFormat: 'opaque' })
    secrets.add(jwt.secret).add(opaque.secret)
    const password = 'a secret password 123'
    secrets.add(password).add('wrong-secret-value-xyz').add('wrong-password-value-xyz')
    await server.createUser('gil@example.com', password)
    const token = `${server.url}/oauth/token`
    for (const client of [jwt, opaque]) {
      for (const form of [
        { grant_type: 'client_credentials' },
        { grant_type: 'password', username: 'gil@example.com', password },
        { grant_type: 'password', username: 'gil@example.com', password: 'wrong-password-value-xyz' },
      ]) {
        const answer = await request(token, { form, basic: client })
        remember(answer.body)
        const json = await request(token, { json: { ...form, client_id: client.id, client_secret: client.secret } })
        remember(json.body)
      }
      await request(token, { form: { grant_type: 'client_credentials' }, basic: { id: client.id, secret: 'wrong-secret-value-xyz' } })
      await request(`${token}?client_id=${client.id}&client_secret=${client.secret}&grant_type=client_credentials`)
    }
    const tokens = [...secrets].filter((s) => s.startsWith('rt-') || s.startsWith('sk-') || s.startsWith('ey'))
    assert.ok(tokens.length >= 6, 'the run obtained tokens')
    for (const value of tokens) {
      if (value.startsWith('rt-')) {
        // Each refresh token belongs to one of the two clients: the other is refused, and
        // the owner's second use is a reuse. All three paths log.
        for (const client of [jwt, opaque, jwt, opaque]) {
          remember((await request(token, { form: { grant_type: 'refresh_token', refresh_token: value }, basic: client })).body)
        }
      }
      await request(`${server.url}/oauth/introspect`, { form: { token: value }, basic: jwt })
      await request(`${server.url}/oauth/revoke`, { form: { token: value }, basic: jwt })
      await request(`${server.url}/oauth/introspect`, { form: { token: value } })
    }
    await request(token, { raw: { contentType: 'application/json', body: `{"client_secret":"${jwt.secret}",` } })
  })

  it('contains no secret, password, token or key in any log line', async () => {
    await new Promise((resolve) => setTimeout(resolve, 50))
    const lines = server.logs.lines
    assert.ok(lines.length > 50, `expected a busy log, got ${lines.length} lines`)
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), 'every log line is JSON')
    const leaked = [...secrets].filter((secret) => server.logs.text.includes(secret))
    assert.deepEqual(leaked, [])
    assert.equal(/"d":"/.test(server.logs.text), false, 'no private JWK in the logs')
  })
})
