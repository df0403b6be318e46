import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPostgresTestDatabase, type TestDatabase } from '../helpers/database.js'
import { request } from '../helpers/http.js'
import { POSTGRES_URL, skipWithoutPostgres } from '../helpers/postgres.js'
import type { ServerProcess } from '../helpers/processes.js'
import { cliOn, spawnTwoInstances, stopTwoInstances, TWO_INSTANCE_ISSUER } from '../helpers/two-instances.js'
import { assertionFields, clientKey, signAssertion, type ClientKey } from '../helpers/assertions.js'

/**
 * RFC 7523 §3: a client assertion's jti is accepted once. Two Gatehouse processes on one
 * PostgreSQL database, as behind a load balancer: an assertion used on one is refused on the
 * other, and the same assertion sent to both at once is accepted by exactly one.
 */

const REFUSED = { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed.' } }

describe('private_key_jwt on two instances on one PostgreSQL database', { skip: await skipWithoutPostgres() }, () => {
  let database: TestDatabase
  let a: ServerProcess
  let b: ServerProcess
  let key: ClientKey
  let clientId: string

  const cli = cliOn(() => database, '')
  const token = (server: ServerProcess, assertion: string) => request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', ...assertionFields(assertion) } })
  const signed = (claims: Record<string, unknown> = {}) => signAssertion(key, { clientId, audience: TWO_INSTANCE_ISSUER, claims })

  before(async () => {
    database = await createPostgresTestDatabase(POSTGRES_URL)
    key = await clientKey('ES256', 'cluster-1')
    await cli('migrate')
    const created = await cli('clients', 'create', '--name', 'cluster job', '--auth-method', 'private_key_jwt', '--jwks', JSON.stringify(key.publicJwk), '--scope', 'api')
    clientId = String(created.client_id)
    ;[a, b] = await spawnTwoInstances(database)
  })

  after(() => stopTwoInstances([a, b], database))

  test('an assertion used on one instance is refused on the other', async () => {
    const assertion = await signed()
    const first = await token(a, assertion)
    assert.equal(first.status, 200, first.text)
    const replayed = await token(b, assertion)
    assert.deepEqual({ status: replayed.status, body: replayed.body }, REFUSED)
    // A new signature does not make a used jti new.
    const sameJti = await signed({ jti: JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString()).jti, exp: Math.floor(Date.now() / 1000) + 90 })
    assert.deepEqual({ status: (await token(b, sameJti)).status, again: (await token(a, sameJti)).status }, { status: 401, again: 401 })
  })

  test('the same assertion sent to both instances at once is accepted exactly once', async () => {
    for (let round = 0; round < 8; round++) {
      const assertion = await signed()
      const answers = await Promise.all([a, b, a, b].map((server) => token(server, assertion)))
      assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 401, 401, 401], `round ${round}`)
    }
  })
})
