import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPostgresTestDatabase, type TestDatabase } from '../helpers/database.js'
import { request } from '../helpers/http.js'
import { POSTGRES_URL, skipWithoutPostgres } from '../helpers/postgres.js'
import { within, type ServerProcess } from '../helpers/processes.js'
import { cliOn, spawnTwoInstances, stopTwoInstances } from '../helpers/two-instances.js'

/**
 * Opaque tokens introspect from the memory of the instance that issued them (B here); whatever
 * makes one inactive on A makes it inactive on B within 1 s: two server processes on one
 * PostgreSQL database, client caches held for a minute.
 */

const PASSWORD = 'correct horse battery staple'
type Credentials = { id: string; secret: string }

describe('cached opaque tokens on two instances', { skip: await skipWithoutPostgres() }, () => {
  let database: TestDatabase
  let a: ServerProcess
  let b: ServerProcess
  let client: Credentials
  let resourceServer: Credentials
  let users = 0
  const cli = cliOn(() => database, PASSWORD)

  const activeOn = async (server: ServerProcess, token: string): Promise<boolean> => {
    const answer = await request(`${server.url}/oauth/introspect`, { form: { token }, basic: resourceServer })
    assert.equal(answer.status, 200, answer.text)
    return (answer.body as { active: boolean }).active
  }

  const inactiveOnBWithin1s = async (token: string, since: number): Promise<void> => {
    await within(1000, async () => !(await activeOn(b, token)))
    assert.ok(Date.now() - since <= 1000, `inactive on B after ${Date.now() - since} ms`)
  }

  before(async () => {
    database = await createPostgresTestDatabase(POSTGRES_URL)
    await cli('migrate')
    const created = await cli('clients', 'create', '--name', 'opaque', '--token-format', 'opaque', '--grant', 'client_credentials', '--grant', 'password', '--grant', 'refresh_token', '--scope', 'api')
    client = { id: String(created.client_id), secret: String(created.client_secret) }
    const rs = await cli('clients', 'create', '--name', 'resource server', '--scope', 'api')
    resourceServer = { id: String(rs.client_id), secret: String(rs.client_secret) }
    ;[a, b] = await spawnTwoInstances(database)
  })
  after(() => stopTwoInstances([a, b], database))

  const issueOnB = async (): Promise<string> => {
    const answer = await request(`${b.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client })
    assert.equal(answer.status, 200, answer.text)
    return (answer.body as { access_token: string }).access_token
  }

  test('a token issued on B and revoked on A (RFC 7009) is inactive on B', async () => {
    const token = await issueOnB()
    assert.equal(await activeOn(b, token), true)
    const since = Date.now()
    assert.equal((await request(`${a.url}/oauth/revoke`, { form: { token }, basic: client })).status, 200)
    await inactiveOnBWithin1s(token, since)
    assert.equal(await activeOn(a, token), false)
  })

  test("a token issued on B whose grant ends on A is inactive on B", async () => {
    const username = `opaque${++users}@example.com`
    await cli('users', 'create', '--username', username, '--password-stdin')
    const login = await request(`${b.url}/oauth/token`, { form: { grant_type: 'password', username, password: PASSWORD }, basic: client })
    assert.equal(login.status, 200, login.text)
    const tokens = login.body as { access_token: string; refresh_token: string }
    assert.equal(await activeOn(b, tokens.access_token), true)
    const since = Date.now()
    assert.equal((await request(`${a.url}/oauth/revoke`, { form: { token: tokens.refresh_token }, basic: client })).status, 200)
    await inactiveOnBWithin1s(tokens.access_token, since)
  })

  test('a token issued on B is inactive on B once the CLI revokes the client\'s tokens', async () => {
    const token = await issueOnB()
    assert.equal(await activeOn(b, token), true)
    // Timed from the command's end: starting the CLI process alone can take a second here.
    await cli('clients', 'revoke-tokens', client.id)
    await inactiveOnBWithin1s(token, Date.now())
  })
})
