import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ClientValidationError } from '../../src/core/admin/client-admin.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request } from '../helpers/http.js'

describe('chosen client ids never pass for a user (RFC 9700 §4.15)', () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer()
  })
  after(() => server.close())

  it('refuses a client id equal to a user id, or shaped like one, so a client_credentials sub cannot pass for a user', async () => {
    const user = await server.createUser('victim@example.com', 'correct horse battery')
    await assert.rejects(server.server.gatehouse.clients.create({ name: 'impostor', id: user.id }), (error: unknown) => error instanceof ClientValidationError && /user id/.test(error.message))
    await assert.rejects(server.server.gatehouse.clients.create({ name: 'impostor', id: '0b9f6c1e-1111-4222-8333-444455556666' }), (error: unknown) => error instanceof ClientValidationError && /form of a user id/.test(error.message))
    const allowed = await server.server.gatehouse.clients.create({ name: 'migrated', id: 'legacy-client-7' })
    assert.equal(allowed.client.id, 'legacy-client-7')
    // The attacker's request: a token whose sub is the victim's id cannot be had through client_credentials.
    const answer = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id: user.id, secret: 'anything' } })
    assert.equal(answer.status, 401)
  })
})
