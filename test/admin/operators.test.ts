import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createOperatorToken } from '../../src/core/admin/operator-token.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { jwtPayload, request, type HttpAnswer } from '../helpers/http.js'
import { runCli, type CliResult } from '../helpers/processes.js'

/** Issue 11 item 1: the management API's authority is the operator list and the admin audience, never a scope. */

const PROBLEM = 'application/problem+json; charset=utf-8'
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

function assertProblem(answer: HttpAnswer, status: number, type: string, title: string, detail: string, challenge?: string): void {
  assert.deepEqual(
    { status: answer.status, contentType: answer.headers.get('content-type'), challenge: answer.headers.get('www-authenticate'), body: answer.body },
    { status, contentType: PROBLEM, challenge: challenge ?? null, body: { type: `urn:gatehouse:problem:${type}`, title, status, detail } },
  )
}

function assertOAuthError(answer: HttpAnswer, status: number, error: string, description: string): void {
  assert.deepEqual(
    { status: answer.status, cacheControl: answer.headers.get('cache-control'), body: answer.body },
    { status, cacheControl: NO_STORE['cache-control'], body: { error, error_description: description } },
  )
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
const accessToken = (answer: HttpAnswer): string => (answer.body as { access_token: string }).access_token

describe('operator identities and the admin audience', () => {
  let server: TestServer
  let admin: string
  let audience: string
  const api = (path: string): string => `${server.url}/admin/v1${path}`

  before(async () => {
    server = await startTestServer()
    audience = `${server.config.issuer}/admin/v1`
    const g = server.server.gatehouse
    admin = (await createOperatorToken({ store: g.store, clients: g.clients, operators: g.operators, tokens: g.tokens, audit: g.audit, maxAccessTokenTtl: g.config.maxAccessTokenTtl })).accessToken
  })
  after(() => server.close())

  describe('issuance', () => {
    it('refuses a non-operator client that asks for the admin audience with invalid_target (RFC 8707 §2)', async () => {
      const client = await server.createClient({ scopes: ['management-api'] })
      const answer = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', audience }, basic: client })
      assertOAuthError(answer, 400, 'invalid_target', `The audience ${audience} is Gatehouse's management API; only an operator may ask for it.`)
    })

    it('refuses it at IdentityServer\'s /connect/token too', async () => {
      const client = await server.createClient({ scopes: ['management-api'] })
      const answer = await request(`${server.url}/connect/token`, { form: { grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret, audience } })
      assert.deepEqual([answer.status, answer.body], [400, { error: 'invalid_target', error_description: `The audience ${audience} is Gatehouse's management API; only an operator may ask for it.` }])
    })

    it('refuses a user password token with management-api at /admin/v1, and the admin audience to a non-operator user', async () => {
      const client = await server.createClient({ scopes: ['management-api'], grantTypes: ['password'] })
      await server.createUser('tenant@example.com', 'tenant-password-1')
      const login = { grant_type: 'password', username: 'tenant@example.com', password: 'tenant-password-1' }
      const token = await request(`${server.url}/oauth/token`, { form: { ...login, scope: 'management-api' }, basic: client })
      assert.deepEqual([token.status, (token.body as { scope: string }).scope], [200, 'management-api'])
      const detail = `The access token is for the audience ${server.config.issuer}; the management API accepts only ${audience}.`
      assertProblem(await request(api('/users'), { headers: bearer(accessToken(token)) }), 401, 'unauthorized', 'Unauthorized', detail, `Bearer realm="gatehouse", error="invalid_token", error_description="${detail}"`)
      const refused = await request(`${server.url}/oauth/token`, { form: { ...login, audience }, basic: client })
      assertOAuthError(refused, 400, 'invalid_target', `The audience ${audience} is Gatehouse's management API; only an operator may ask for it.`)
      // A wrong password hears invalid_grant first: the operator list is not probed for strangers.
      const wrong = await request(`${server.url}/oauth/token`, { form: { ...login, password: 'nope-nope-nope', audience }, basic: client })
      assertOAuthError(wrong, 400, 'invalid_grant', 'invalid_username_or_password')
    })

    it('gives an operator user a scope-less admin token without a refresh token; scope and audience together are refused', async () => {
      const client = await server.createClient({ scopes: ['api'], grantTypes: ['password', 'refresh_token'] })
      const user = await server.createUser('ops@example.com', 'ops-password-12')
      await server.server.gatehouse.operators.put('user', 'ops@example.com', 'admin')
      const login = { grant_type: 'password', username: 'ops@example.com', password: 'ops-password-12', audience }
      const answer = await request(`${server.url}/oauth/token`, { form: login, basic: client })
      assert.equal(answer.status, 200)
      assert.deepEqual({ ...(answer.body as Record<string, unknown>), access_token: '<token>' }, { access_token: '<token>', token_type: 'Bearer', expires_in: 3600 })
      const claims = jwtPayload(accessToken(answer))
      assert.deepEqual([claims.aud, claims.sub, claims.client_id, claims.scope], [audience, user.id, client.id, undefined])
      assert.equal((await request(api('/users'), { headers: bearer(accessToken(answer)) })).status, 200)
      const scoped = await request(`${server.url}/oauth/token`, { form: { ...login, scope: 'api' }, basic: client })
      assertOAuthError(scoped, 400, 'invalid_scope', `A token for ${audience} carries no scope; leave scope out.`)
    })

    it('refuses to let a tenant client or API key take the admin audience as its own', async () => {
      const clientAnswer = await request(api('/clients'), { headers: bearer(admin), json: { name: 'Sneaky', audience: `${audience}/` } })
      assertProblem(clientAnswer, 400, 'validation', 'Invalid request', `audience ${audience}/ is reserved for Gatehouse's management API; operators get it with the audience parameter (docs/management.md)`)
      const keyAnswer = await request(api('/api-keys'), { headers: bearer(admin), json: { name: 'Sneaky key', audience } })
      assertProblem(keyAnswer, 400, 'validation', 'Invalid request', `audience ${audience} is reserved for Gatehouse's management API`)
    })
  })

  describe('authorization', () => {
    it('lets a read-only operator read (200) and refuses it a write (403), and the operator list', async () => {
      const client = await server.createClient({ scopes: [] })
      await server.server.gatehouse.operators.put('client', client.id, 'read-only')
      const token = accessToken(await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', audience }, basic: client }))
      assert.equal((await request(api('/clients'), { headers: bearer(token) })).status, 200)
      const detail = `client:${client.id} is a read-only operator; POST needs the admin role.`
      assertProblem(await request(api('/clients'), { headers: bearer(token), json: { name: 'x' } }), 403, 'forbidden', 'Forbidden', detail, `Bearer realm="gatehouse", error="insufficient_scope", error_description="${detail}"`)
      const listDetail = `client:${client.id} is a read-only operator; this operation needs the admin role.`
      assertProblem(await request(api('/operators'), { headers: bearer(token) }), 403, 'forbidden', 'Forbidden', listDetail, `Bearer realm="gatehouse", error="insufficient_scope", error_description="${listDetail}"`)
    })

    it('refuses a still-valid token once its subject is taken off the operator list', async () => {
      const client = await server.createClient({ scopes: [] })
      assert.equal((await request(api(`/operators/client/${client.id}`), { method: 'PUT', headers: bearer(admin), json: { role: 'admin' } })).status, 201)
      const token = accessToken(await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', audience }, basic: client }))
      assert.equal((await request(api('/signing-keys'), { headers: bearer(token) })).status, 200)
      assert.equal((await request(api(`/operators/client/${client.id}`), { method: 'DELETE', headers: bearer(admin) })).status, 204)
      const detail = `client:${client.id} is not an operator.`
      assertProblem(await request(api('/signing-keys'), { headers: bearer(token) }), 403, 'forbidden', 'Forbidden', detail, `Bearer realm="gatehouse", error="insufficient_scope", error_description="${detail}"`)
    })

    it('answers a refresh token presented as a bearer token with 401', async () => {
      const client = await server.createClient({ scopes: ['api'], grantTypes: ['password', 'refresh_token'] })
      await server.createUser('refresh@example.com', 'refresh-password-1')
      const tokens = await request(`${server.url}/oauth/token`, { form: { grant_type: 'password', username: 'refresh@example.com', password: 'refresh-password-1' }, basic: client })
      const refresh = (tokens.body as { refresh_token: string }).refresh_token
      assertProblem(await request(api('/clients'), { headers: bearer(refresh) }), 401, 'unauthorized', 'Unauthorized', 'The token is not an access token.', 'Bearer realm="gatehouse", error="invalid_token", error_description="The token is not an access token."')
    })

    it('keeps /oauth/introspect silent about why a token is inactive', async () => {
      const client = await server.createClient({ scopes: [] })
      const [header, payload] = admin.split('.')
      const answer = await request(`${server.url}/oauth/introspect`, { form: { token: `${header}.${payload}.AAAA` }, basic: client })
      assert.deepEqual([answer.status, answer.body], [200, { active: false }])
    })
  })

  describe('the operator list over the API', () => {
    it('adds (201), changes (200), lists, removes (204, then 404) and audits every change', async () => {
      const client = await server.createClient({ scopes: [] })
      await server.createUser('ann@example.com', 'ann-password-123')
      const user = await server.server.gatehouse.users.find('ann@example.com')
      assert.ok(user)
      const added = await request(api('/operators/user/ann@example.com'), { method: 'PUT', headers: bearer(admin), json: { role: 'read-only' } })
      assert.deepEqual([added.status, { ...(added.body as Record<string, unknown>), created_at: '<t>' }], [201, { kind: 'user', id: user.id, role: 'read-only', created_at: '<t>' }])
      const changed = await request(api(`/operators/user/${user.id}`), { method: 'PUT', headers: bearer(admin), json: { role: 'admin' } })
      assert.deepEqual([changed.status, (changed.body as { role: string }).role], [200, 'admin'])
      const listed = await request(api('/operators'), { headers: bearer(admin) })
      const entries = (listed.body as { operators: { kind: string; id: string; role: string }[] }).operators
      assert.deepEqual(entries.find((entry) => entry.id === user.id && entry.kind === 'user')?.role, 'admin')
      assert.ok(entries.some((entry) => entry.kind === 'client' && entry.id === 'gatehouse-operator' && entry.role === 'admin'))
      assert.equal((await request(api('/operators/user/ann@example.com'), { method: 'DELETE', headers: bearer(admin) })).status, 204)
      assertProblem(await request(api('/operators/user/ann@example.com'), { method: 'DELETE', headers: bearer(admin) }), 404, 'not-found', 'Not found', 'user ann@example.com is not an operator.')
      assertProblem(await request(api(`/operators/client/no-such-client`), { method: 'PUT', headers: bearer(admin), json: { role: 'admin' } }), 404, 'not-found', 'Not found', 'No client no-such-client.')
      assertProblem(await request(api(`/operators/client/${client.id}`), { method: 'PUT', headers: bearer(admin), json: { role: 'root' } }), 400, 'validation', 'Invalid request', 'body/role must be equal to one of the allowed values')
      assertProblem(await request(api(`/operators/group/${client.id}`), { method: 'PUT', headers: bearer(admin), json: { role: 'admin' } }), 400, 'validation', 'Invalid request', 'params/kind must be equal to one of the allowed values')
      const events = await server.server.gatehouse.audit.list({ limit: 10, target: `user:${user.id}` })
      assert.deepEqual(
        events.map((event) => [event.actor, event.action, event.details]),
        [
          ['client:gatehouse-operator', 'operator.removed', { role: 'admin' }],
          ['client:gatehouse-operator', 'operator.role_changed', { role: 'admin' }],
          ['client:gatehouse-operator', 'operator.added', { role: 'read-only' }],
        ],
      )
    })
  })

  describe('unlocking a user', () => {
    it('ends a lockout at once, and audits it as user.unlocked', async () => {
      const client = await server.createClient({ scopes: ['api'], grantTypes: ['password'] })
      const user = await server.createUser('locked@example.com', 'locked-password-1')
      const login = (password: string): Promise<HttpAnswer> => request(`${server.url}/oauth/token`, { form: { grant_type: 'password', username: 'locked@example.com', password }, basic: client })
      for (let i = 0; i < 5; i++) assert.equal((await login('wrong-password')).status, 400)
      assertOAuthError(await login('locked-password-1'), 400, 'invalid_grant', 'invalid_username_or_password')
      const unlocked = await request(api('/users/locked@example.com/unlock'), { method: 'POST', headers: bearer(admin) })
      assert.deepEqual([unlocked.status, (unlocked.body as { id: string }).id, (unlocked.body as { username: string }).username], [200, user.id, 'locked@example.com'])
      assert.equal((await login('locked-password-1')).status, 200)
      const events = await server.server.gatehouse.audit.list({ limit: 1, action: 'user.unlocked' })
      assert.deepEqual(events.map((event) => [event.actor, event.target, event.ip, Object.keys(event.details)]), [['client:gatehouse-operator', `user:${user.id}`, '127.0.0.1', ['locked_for']]])
      // Seconds left of the 5-minute lock; the attempts after the lock are slowed (GATEHOUSE_LOCKOUT_SLOWDOWN), so a few went by.
      const lockedFor = Number(events[0]?.details.locked_for)
      assert.ok(lockedFor > 290 && lockedFor <= 300, `locked_for ${lockedFor}`)
      assertProblem(await request(api('/users/nobody@example.com/unlock'), { method: 'POST', headers: bearer(admin) }), 404, 'not-found', 'Not found', 'No user nobody@example.com.')
    })
  })
})

describe('gatehouse admin create-token and operators on the command line', () => {
  const ISSUER = 'https://gatehouse.example.test'
  let server: TestServer
  before(async () => {
    server = await startTestServer({ env: { GATEHOUSE_ISSUER: `${ISSUER}/` } })
  })
  after(() => server.close())

  /** The CLI on the server's database, without the server's issuer in its environment. */
  const cli = (args: string[]): Promise<CliResult> =>
    runCli(args, { env: { GATEHOUSE_DATABASE_URL: server.database.url, GATEHOUSE_DATA_DIR: server.database.dataDir, GATEHOUSE_SECRET: server.config.secret ?? '' } })
  const api = (path: string): string => `${server.url}/admin/v1${path}`

  it('mints with --issuer a token the server with that issuer accepts', async () => {
    const result = await cli(['admin', 'create-token', '--issuer', ISSUER, '--ttl', '300', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const printed = result.json as Record<string, unknown>
    assert.deepEqual({ ...printed, access_token: '<token>' }, { access_token: '<token>', token_type: 'Bearer', expires_in: 300, client_id: 'gatehouse-operator', role: 'admin', issuer: ISSUER, audience: `${ISSUER}/admin/v1` })
    assert.equal((await request(api('/clients'), { headers: bearer(String(printed.access_token)) })).status, 200)
  })

  it('says which issuers differ when the token was minted for another', async () => {
    const result = await cli(['admin', 'create-token', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const detail = `The access token was issued by http://127.0.0.1:8787; this Gatehouse is ${ISSUER}.`
    assertProblem(await request(api('/clients'), { headers: bearer(String((result.json as { access_token: string }).access_token)) }), 401, 'unauthorized', 'Unauthorized', detail, `Bearer realm="gatehouse", error="invalid_token", error_description="${detail}"`)
  })

  it('mints a read-only token with --role read-only', async () => {
    const result = await cli(['admin', 'create-token', '--issuer', ISSUER, '--role', 'read-only', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const token = String((result.json as { access_token: string }).access_token)
    assert.deepEqual([(result.json as { client_id: string }).client_id, (result.json as { role: string }).role], ['gatehouse-operator-read-only', 'read-only'])
    assert.equal((await request(api('/clients'), { headers: bearer(token) })).status, 200)
    assert.equal((await request(api('/signing-keys/rotate'), { method: 'POST', headers: bearer(token) })).status, 403)
  })

  it('adds, lists and removes operators, audited with actor cli, and says where to unlock without Redis', async () => {
    await server.createUser('cli-ops@example.com', 'cli-ops-password')
    const user = await server.server.gatehouse.users.find('cli-ops@example.com')
    assert.ok(user)
    const added = await cli(['operators', 'add', '--user', 'cli-ops@example.com', '--role', 'read-only', '--json'])
    assert.equal(added.code, 0, added.stderr)
    assert.deepEqual({ ...(added.json as Record<string, unknown>), created_at: '<t>' }, { kind: 'user', id: user.id, role: 'read-only', created_at: '<t>' })
    const listed = await cli(['operators', 'list', '--json'])
    assert.deepEqual(
      (listed.json as { operators: { kind: string; id: string; role: string }[] }).operators.map((entry) => [entry.kind, entry.id, entry.role]).filter(([kind]) => kind === 'user'),
      [['user', user.id, 'read-only']],
    )
    const removed = await cli(['operators', 'remove', '--user', user.id, '--json'])
    assert.equal(removed.code, 0, removed.stderr)
    const again = await cli(['operators', 'remove', '--user', user.id, '--json'])
    // Under --json an error is one JSON object on stderr (README "Command line").
    assert.deepEqual([again.code, again.stderr], [1, `${JSON.stringify({ error: { message: `user ${user.id} is not an operator`, exit_code: 1 } })}\n`])
    const both = await cli(['operators', 'add', '--user', 'x', '--client', 'y', '--role', 'admin'])
    assert.deepEqual([both.code, both.stderr], [2, 'gatehouse: name exactly one of --user EMAIL_OR_ID and --client ID\n'])
    // Without Redis the lockout is in the server's memory: the command says where to unlock (test/ops/redis-limits.test.ts unlocks through Redis).
    const unlocked = await cli(['users', 'unlock', 'cli-ops@example.com', '--json'])
    assert.deepEqual([unlocked.code, unlocked.stdout, unlocked.stderr], [2, '', `${JSON.stringify({ error: { message: `the lockout is kept in each server process (GATEHOUSE_REDIS_URL is not set); unlock through the server: POST /admin/v1/users/${user.id}/unlock`, exit_code: 2 } })}\n`])
    const events = await server.server.gatehouse.audit.list({ limit: 10, target: `user:${user.id}` })
    assert.deepEqual(events.map((event) => [event.actor, event.action]), [['cli', 'operator.removed'], ['cli', 'operator.added']])
  })
})
