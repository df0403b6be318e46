import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestServer } from './helpers/server.js'
import { request } from './helpers/http.js'

test('the server answers a client_credentials token request', async () => {
  const server = await startTestServer()
  try {
    const client = await server.createClient()
    const answer = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client })
    assert.equal(answer.status, 200)
  } finally {
    await server.close()
  }
})
