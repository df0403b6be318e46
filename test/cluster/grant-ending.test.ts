import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPostgresTestDatabase, type TestDatabase } from '../helpers/database.js'
import { request } from '../helpers/http.js'
import { POSTGRES_URL, skipWithoutPostgres } from '../helpers/postgres.js'
import { within, type ServerProcess } from '../helpers/processes.js'
import { cliOn, spawnTwoInstances, stopTwoInstances } from '../helpers/two-instances.js'

/**
 * Grants ended on one instance (or by the CLI) are ended on the other within 1 s (issue 11):
 * two server processes on one PostgreSQL database, JWT access tokens, client caches held for a
 * minute, so what B learns in time it learned from the database or LISTEN/NOTIFY.
 */

const PASSWORD = 'correct horse battery staple'
type Credentials = { id: string; secret: string }
type Tokens = { access_token: string; refresh_token: string }

describe('grants ended on one instance are ended on the other', { skip: await skipWithoutPostgres() }, () => {
  let database: TestDatabase
  let a: ServerProcess
  let b: ServerProcess
  let client: Credentials
  let resourceServer: Credentials
  let users = 0

  const cli = cliOn(() => database, PASSWORD)

  const newClient = async (name: string): Promise<Credentials> => {
    const created = await cli('clients', 'create', '--name', name, '--grant', 'client_credentials', '--grant', 'password', '--grant', 'refresh_token', '--scope', 'api')
    return { id: String(created.client_id), secret: String(created.client_secret) }
  }

  const newUser = async (): Promise<string> => {
    const username = `user${++users}@example.com`
    await cli('users', 'create', '--username', username, '--password-stdin')
    return username
  }

  const login = async (server: ServerProcess, username: string, as: Credentials = client): Promise<Tokens> => {
    const answer = await request(`${server.url}/oauth/token`, { form: { grant_type: 'password', username, password: PASSWORD }, basic: as })
    assert.equal(answer.status, 200, answer.text)
    return answer.body as Tokens
  }

  const activeOn = async (server: ServerProcess, token: string): Promise<boolean> => {
    const answer = await request(`${server.url}/oauth/introspect`, { form: { token }, basic: resourceServer })
    assert.equal(answer.status, 200, answer.text)
    return (answer.body as { active: boolean }).active
  }

  /** Waits (at most 1 s from `since`) until B calls the token inactive. */
  const inactiveOnBWithin1s = async (token: string, since: number): Promise<void> => {
    await within(1000, async () => !(await activeOn(b, token)))
    assert.ok(Date.now() - since <= 1000, `inactive on B after ${Date.now() - since} ms`)
  }

  before(async () => {
    database = await createPostgresTestDatabase(POSTGRES_URL)
    await cli('migrate')
    client = await newClient('two instances')
    resourceServer = await newClient('resource server')
    ;[a, b] = await spawnTwoInstances(database)
  })

  after(() => stopTwoInstances([a, b], database))

  test('a refresh token revoked on A: its JWT access token is inactive on B', async () => {
    const tokens = await login(a, await newUser())
    assert.equal(await activeOn(b, tokens.access_token), true)
    const revoked = await request(`${a.url}/oauth/revoke`, { form: { token: tokens.refresh_token }, basic: client })
    assert.equal(revoked.status, 200)
    await inactiveOnBWithin1s(tokens.access_token, Date.now())
  })

  test('reuse detected on A: the grant is ended on B', async () => {
    const tokens = await login(a, await newUser())
    const refresh = (server: ServerProcess, token: string) =>
      request(`${server.url}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: token }, basic: client })
    const next = (await refresh(a, tokens.refresh_token)).body as Tokens
    assert.equal(await activeOn(b, next.access_token), true)
    assert.equal((await refresh(a, tokens.refresh_token)).status, 400)
    await inactiveOnBWithin1s(next.access_token, Date.now())
    assert.equal((await refresh(b, next.refresh_token)).status, 400)
  })

  test('a user disabled through the CLI: their tokens are inactive on both instances within 1 s', async () => {
    const username = await newUser()
    const tokens = await login(a, username)
    assert.equal(await activeOn(b, tokens.access_token), true)
    await cli('users', 'disable', username)
    await inactiveOnBWithin1s(tokens.access_token, Date.now())
    assert.equal(await activeOn(a, tokens.access_token), false)
    const refused = await request(`${b.url}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, basic: client })
    assert.equal(refused.status, 400)
  })

  test("a user's sessions ended through the CLI: inactive on B within 1 s", async () => {
    const username = await newUser()
    const tokens = await login(b, username)
    assert.equal(await activeOn(b, tokens.access_token), true)
    const ended = await cli('users', 'end-sessions', username)
    assert.equal(ended.ended_grants, 1)
    await inactiveOnBWithin1s(tokens.access_token, Date.now())
  })

  test('a client deleted through the CLI: its user and client_credentials tokens are inactive on B within 1 s', async () => {
    const doomed = await newClient('doomed')
    const user = await login(a, await newUser(), doomed)
    const own = await request(`${a.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: doomed })
    const machine = (own.body as Tokens).access_token
    // B caches the client (for a minute) once it has seen it.
    assert.deepEqual([await activeOn(b, user.access_token), await activeOn(b, machine)], [true, true])
    await cli('clients', 'delete', doomed.id)
    const since = Date.now()
    await inactiveOnBWithin1s(user.access_token, since)
    await inactiveOnBWithin1s(machine, since)
  })

  test('a secret rotated with --revoke-tokens: earlier client_credentials JWTs are inactive on B within 1 s', async () => {
    const rotating = await newClient('rotating')
    const own = await request(`${a.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: rotating })
    const machine = (own.body as Tokens).access_token
    const user = await login(a, await newUser(), rotating)
    assert.deepEqual([await activeOn(b, machine), await activeOn(b, user.access_token)], [true, true])
    // JWTs carry whole seconds: rotate in a later second than the one they were issued in.
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const rotated = await cli('clients', 'rotate-secret', rotating.id, '--revoke-tokens')
    const since = Date.now()
    await inactiveOnBWithin1s(machine, since)
    await inactiveOnBWithin1s(user.access_token, since)
    const fresh = await request(`${b.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id: rotating.id, secret: String(rotated.client_secret) } })
    assert.equal(fresh.status, 200)
    assert.equal(await activeOn(a, (fresh.body as Tokens).access_token), true)
  })
})
