import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request } from '../helpers/http.js'

/** Failed authentications are written in background batches: flush the queue, then read. */
async function auditEvents(server: TestServer, action: string): Promise<ReturnType<TestServer['server']['gatehouse']['audit']['list']>> {
  await server.server.gatehouse.audit.flush()
  return server.server.gatehouse.audit.list({ limit: 50, action })
}

test('a wrong client secret is an audit event with the client id and source IP, never the secret', async () => {
  const server = await startTestServer()
  try {
    const client = await server.createClient()
    const answer = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id: client.id, secret: 'not-the-secret-123' } })
    assert.equal(answer.status, 401)
    const [event, ...rest] = await auditEvents(server, 'client.authentication_failed')
    assert.deepEqual(rest, [])
    assert.ok(event)
    assert.deepEqual({ ...event, id: 'x', at: 0 }, {
      id: 'x',
      at: 0,
      actor: 'anonymous',
      action: 'client.authentication_failed',
      target: `client:${client.id}`,
      ip: '127.0.0.1',
      details: { reason: 'wrong client secret' },
    })
    assert.doesNotMatch(JSON.stringify(event), /not-the-secret-123/)
  } finally {
    await server.close()
  }
})

test('a failed password login is an audit event naming the user and the client, never the password', async () => {
  const server = await startTestServer()
  try {
    const client = await server.createClient()
    await server.createUser('ada@example.com', 'correct horse battery')
    const answer = await request(`${server.url}/oauth/token`, {
      form: { grant_type: 'password', username: 'Ada@example.com', password: 'wrong-password-42' },
      basic: client,
    })
    assert.equal(answer.status, 400)
    const [event] = await auditEvents(server, 'user.authentication_failed')
    assert.ok(event)
    assert.deepEqual({ ...event, id: 'x', at: 0 }, {
      id: 'x',
      at: 0,
      actor: 'anonymous',
      action: 'user.authentication_failed',
      target: 'user:ada@example.com',
      ip: '127.0.0.1',
      details: { reason: 'wrong password', client_id: client.id },
    })
    assert.doesNotMatch(JSON.stringify(event), /wrong-password-42/)
  } finally {
    await server.close()
  }
})

test('a successful token request writes no audit event and counts as activity of its client', async () => {
  const server = await startTestServer()
  try {
    const client = await server.createClient()
    const answer = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client })
    assert.equal(answer.status, 200)
    assert.deepEqual(await server.server.gatehouse.audit.list({ limit: 10 }), [])
    const before = Date.now()
    const usage = await server.server.gatehouse.activity.usageOf(client.id)
    assert.deepEqual({ ...usage, lastIssuedAt: typeof usage.lastIssuedAt }, { issued: 1, lastIssuedAt: 'number', byGrant: { client_credentials: 1 } })
    assert.ok((usage.lastIssuedAt ?? 0) <= before && (usage.lastIssuedAt ?? 0) > before - 60_000)
    // Counted in memory: nothing in the store until the flush (no write on the token path).
    assert.deepEqual(await server.server.gatehouse.store.listClientUsage(client.id), [])
    await server.server.gatehouse.activity.flush()
    assert.deepEqual((await server.server.gatehouse.store.listClientUsage(client.id)).map(({ grantType, count }) => [grantType, count]), [['client_credentials', 1]])
  } finally {
    await server.close()
  }
})

test('a wrong API key secret is an audit event naming the key id, never the secret', async () => {
  const server = await startTestServer()
  try {
    const { key, apiKey } = await server.server.gatehouse.apiKeys.create({ name: 'ci', scopes: [] })
    const wrong = `${key.id}:${Buffer.alloc(32, 7).toString('base64')}`
    const answer = await request(`${server.url}/v2/oauth/request-tokens`, { method: 'POST', headers: { 'csc-api-key': wrong } })
    assert.equal(answer.status, 401)
    const [event] = await auditEvents(server, 'api_key.authentication_failed')
    assert.ok(event)
    assert.deepEqual({ ...event, id: 'x', at: 0 }, {
      id: 'x',
      at: 0,
      actor: 'anonymous',
      action: 'api_key.authentication_failed',
      target: `api_key:${key.id}`,
      ip: '127.0.0.1',
      details: { reason: `wrong secret for API key ${key.id}` },
    })
    assert.doesNotMatch(JSON.stringify(event), new RegExp(wrong.split(':')[1]!.replace(/[+/=]/g, '.')))
    assert.notEqual(apiKey, wrong)
  } finally {
    await server.close()
  }
})
