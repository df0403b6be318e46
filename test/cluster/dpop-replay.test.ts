import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPostgresTestDatabase, type TestDatabase } from '../helpers/database.js'
import { dpopKey } from '../helpers/dpop.js'
import { request } from '../helpers/http.js'
import { POSTGRES_URL, skipWithoutPostgres } from '../helpers/postgres.js'
import type { ServerProcess } from '../helpers/processes.js'
import { cliOn, spawnTwoInstances, stopTwoInstances, TWO_INSTANCE_ISSUER } from '../helpers/two-instances.js'

/**
 * RFC 9449 §11.1: a DPoP proof is single-use across every instance. The second use goes to the
 * other instance on the same PostgreSQL database, which must see the first in dpop_proofs.
 */
const PASSWORD = 'correct horse battery staple'
const TOKEN_URL = `${TWO_INSTANCE_ISSUER}/oauth/token`
const USERINFO_URL = `${TWO_INSTANCE_ISSUER}/oauth/userinfo`

describe('a replayed DPoP proof on another instance (PostgreSQL)', { skip: await skipWithoutPostgres() }, () => {
  let database: TestDatabase
  let a: ServerProcess
  let b: ServerProcess
  let client: { id: string; secret: string }
  const cli = cliOn(() => database, PASSWORD)

  before(async () => {
    database = await createPostgresTestDatabase(POSTGRES_URL)
    await cli('migrate')
    const created = await cli('clients', 'create', '--name', 'dpop replay', '--grant', 'client_credentials', '--grant', 'password', '--scope', 'api openid')
    client = { id: String(created.client_id), secret: String(created.client_secret) }
    await cli('users', 'create', '--username', 'ann@example.com', '--password-stdin')
    ;[a, b] = await spawnTwoInstances(database)
  })
  after(() => stopTwoInstances([a, b], database))

  test('at /oauth/token: the proof used on A is refused on B, and the same proof sent to both at once succeeds once', async () => {
    const key = await dpopKey()
    const form = { grant_type: 'client_credentials', scope: 'api' }
    const proof = await key.proof({ htm: 'POST', htu: TOKEN_URL })
    const first = await request(`${a.url}/oauth/token`, { form, basic: client, headers: { dpop: proof } })
    assert.equal(first.status, 200, first.text)
    assert.equal((first.body as { token_type: string }).token_type, 'DPoP')
    const replay = await request(`${b.url}/oauth/token`, { form, basic: client, headers: { dpop: proof } })
    assert.deepEqual([replay.status, replay.body], [400, { error: 'invalid_dpop_proof', error_description: 'The DPoP proof has been used before.' }])

    for (let round = 0; round < 3; round++) {
      const racing = await key.proof({ htm: 'POST', htu: TOKEN_URL })
      const answers = await Promise.all([a, b].map((server) => request(`${server.url}/oauth/token`, { form, basic: client, headers: { dpop: racing } })))
      assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 400], `round ${round}`)
    }
  })

  test('at /oauth/userinfo: a resource proof used on A is refused on B', async () => {
    const key = await dpopKey()
    const issued = await request(`${a.url}/oauth/token`, {
      form: { grant_type: 'password', username: 'ann@example.com', password: PASSWORD, scope: 'openid' },
      basic: client,
      headers: { dpop: await key.proof({ htm: 'POST', htu: TOKEN_URL }) },
    })
    assert.equal(issued.status, 200, issued.text)
    const token = (issued.body as { access_token: string }).access_token
    const proof = await key.proof({ htm: 'GET', htu: USERINFO_URL, accessToken: token })
    const headers = { authorization: `DPoP ${token}`, dpop: proof }
    const first = await request(`${a.url}/oauth/userinfo`, { headers })
    assert.equal(first.status, 200, first.text)
    const replay = await request(`${b.url}/oauth/userinfo`, { headers })
    assert.equal(replay.status, 401)
    assert.match(replay.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_dpop_proof", error_description="The DPoP proof has been used before\.", algs="ES256 RS256 PS256 EdDSA"$/)
  })
})
