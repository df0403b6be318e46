import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPostgresTestDatabase, type TestDatabase } from '../helpers/database.js'
import { request } from '../helpers/http.js'
import { POSTGRES_URL, skipWithoutPostgres } from '../helpers/postgres.js'
import { within, type ServerProcess } from '../helpers/processes.js'
import { cliOn, spawnTwoInstances, stopTwoInstances, TWO_INSTANCE_ISSUER } from '../helpers/two-instances.js'

/**
 * Two Gatehouse server processes on one PostgreSQL database, as behind a load balancer (one issuer).
 * Their client cache and key reload interval are set to a minute, so whatever the second
 * instance learns within the test's bounds it learned from LISTEN/NOTIFY, not from a timer.
 */

const ISSUER = TWO_INSTANCE_ISSUER
const PASSWORD = 'correct horse battery staple'

describe('two instances on one PostgreSQL database', { skip: await skipWithoutPostgres() }, () => {
  let database: TestDatabase
  let a: ServerProcess
  let b: ServerProcess
  let client: { id: string; secret: string }

  const cli = cliOn(() => database, PASSWORD)

  const login = async (server: ServerProcess) =>
    request(`${server.url}/oauth/token`, { form: { grant_type: 'password', username: 'ann@example.com', password: PASSWORD }, basic: client })

  before(async () => {
    database = await createPostgresTestDatabase(POSTGRES_URL)
    await cli('migrate')
    const created = await cli(
      'clients', 'create', '--name', 'two instances', '--grant', 'client_credentials', '--grant', 'password', '--grant', 'refresh_token',
      '--scope', 'api', '--token-format', 'opaque',
    )
    client = { id: String(created.client_id), secret: String(created.client_secret) }
    await cli('users', 'create', '--username', 'ann@example.com', '--password-stdin')
    ;[a, b] = await spawnTwoInstances(database)
  })

  after(() => stopTwoInstances([a, b], database))

  test('a token issued by one is introspected, refreshed and revoked on the other', async () => {
    const issued = await login(a)
    assert.equal(issued.status, 200, issued.text)
    const { access_token: accessToken, refresh_token: refreshToken } = issued.body as { access_token: string; refresh_token: string }

    const introspected = await request(`${b.url}/oauth/introspect`, { form: { token: accessToken }, basic: client })
    assert.equal(introspected.status, 200)
    const body = introspected.body as Record<string, unknown>
    assert.deepEqual(
      { active: body.active, client_id: body.client_id, scope: body.scope, iss: body.iss },
      { active: true, client_id: client.id, scope: 'api', iss: ISSUER },
    )

    const refreshed = await request(`${b.url}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: refreshToken }, basic: client })
    assert.equal(refreshed.status, 200, refreshed.text)
    const next = refreshed.body as { access_token: string; refresh_token: string }
    assert.notEqual(next.refresh_token, refreshToken)

    const revoked = await request(`${b.url}/oauth/revoke`, { form: { token: next.refresh_token }, basic: client })
    assert.deepEqual({ status: revoked.status, text: revoked.text }, { status: 200, text: '' })

    // Revoking the refresh token ended its family: its opaque access token is dead on A too.
    const afterRevoke = await request(`${a.url}/oauth/introspect`, { form: { token: next.access_token }, basic: client })
    assert.deepEqual({ status: afterRevoke.status, body: afterRevoke.body }, { status: 200, body: { active: false } })
    const refusedOnA = await request(`${a.url}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: next.refresh_token }, basic: client })
    assert.equal(refusedOnA.status, 400)
    assert.equal((refusedOnA.body as { error: string }).error, 'invalid_grant')
  })

  test('two concurrent refreshes of one token on the two instances: exactly one succeeds', async () => {
    for (let round = 0; round < 5; round++) {
      const issued = await login(a)
      const refreshToken = (issued.body as { refresh_token: string }).refresh_token
      const answers = await Promise.all(
        [a, b].map((server) => request(`${server.url}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: refreshToken }, basic: client })),
      )
      assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 400], `round ${round}`)
      const loser = answers.find((answer) => answer.status === 400)!
      assert.equal((loser.body as { error: string }).error, 'invalid_grant')
    }
  })

  test('a secret rotated through the CLI is refused by a running instance within 1 s', async (t) => {
    // B has the client cached (for a minute) after this request.
    const before = await request(`${b.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client })
    assert.equal(before.status, 200)

    const rotated = await cli('clients', 'rotate-secret', client.id)
    const rotatedAt = Date.now()
    const oldSecret = client.secret
    client = { id: client.id, secret: String(rotated.client_secret) }

    const took = await within(1000, async () => {
      const answer = await request(`${b.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id: client.id, secret: oldSecret } })
      return answer.status === 401
    })
    t.diagnostic(`old secret refused ${took} ms after the CLI finished`)
    assert.ok(Date.now() - rotatedAt <= 1000, `refused after ${Date.now() - rotatedAt} ms`)
    const withNew = await request(`${b.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client })
    assert.equal(withNew.status, 200)
  })

  test('a client deleted through the CLI is refused by a running instance within 1 s', async () => {
    const created = await cli('clients', 'create', '--name', 'short-lived', '--scope', 'api')
    const doomed = { id: String(created.client_id), secret: String(created.client_secret) }
    const ask = () => request(`${b.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: doomed })
    assert.equal((await ask()).status, 200)

    await cli('clients', 'delete', doomed.id)
    const deletedAt = Date.now()
    await within(1000, async () => (await ask()).status === 401)
    assert.ok(Date.now() - deletedAt <= 1000)
    const refused = await ask()
    assert.deepEqual({ status: refused.status, error: (refused.body as { error: string }).error }, { status: 401, error: 'invalid_client' })
  })

  test('a key rotated through the CLI is served in a running instance’s JWKS within 10 s', async (t) => {
    const kids = async (server: ServerProcess): Promise<string[]> =>
      ((await request(`${server.url}/.well-known/jwks.json`)).body as { keys: { kid: string }[] }).keys.map((key) => key.kid)
    const before = await kids(b)
    const rotated = ((await cli('keys', 'rotate')) as { keys: { kid: string }[] }).keys.map((key) => key.kid)
    assert.equal(rotated.length, 2)
    assert.ok(rotated.every((kid) => !before.includes(kid)))
    const took = await within(10_000, async () => {
      const served = await kids(b)
      return rotated.every((kid) => served.includes(kid))
    })
    t.diagnostic(`new key served ${took} ms after the CLI finished`)
    assert.ok(took <= 10_000)
    assert.deepEqual((await kids(a)).sort(), (await kids(b)).sort())
  })
})
