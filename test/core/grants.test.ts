import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { jwtPayload, request, type HttpAnswer } from '../helpers/http.js'
import { runCli } from '../helpers/processes.js'

/**
 * Grants as records (issue 11, findings 3–7 of the review): every token belongs to a grant,
 * a refresh re-checks what the grant stood on, and every path that ends a grant ends every
 * token of it at once. Each test failed on the code before grants were records.
 */

const PASSWORD = 'correct horse battery staple'
const INVALID_GRANT = { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked.' }
type Tokens = { access_token: string; refresh_token: string; scope: string }
type Credentials = { id: string; secret: string }

for (const format of ['jwt', 'opaque'] as const) {
  describe(`grants that end (${format} access tokens)`, () => {
    let server: TestServer
    let client: Credentials
    let resourceServer: Credentials
    let users = 0

    before(async () => {
      server = await startTestServer()
      client = await server.createClient({ tokenFormat: format, scopes: ['api', 'read', 'invoices:write', 'openid', 'profile'] })
      resourceServer = await server.createClient({ name: 'resource server', grantTypes: ['client_credentials'], scopes: [] })
    })
    after(() => server.close())

    /** A fresh user per test, so one test's ending does not touch another's. */
    async function newUser(): Promise<string> {
      const username = `user${++users}@example.com`
      await server.createUser(username, PASSWORD, 'Ann Example')
      return username
    }

    async function login(username: string, scope = 'api read', as: Credentials = client): Promise<Tokens> {
      const answer = await request(`${server.url}/oauth/token`, { form: { grant_type: 'password', username, password: PASSWORD, scope }, basic: as })
      assert.equal(answer.status, 200, answer.text)
      return answer.body as Tokens
    }

    const refresh = (token: string, extra: Record<string, string> = {}, as: Credentials = client): Promise<HttpAnswer> =>
      request(`${server.url}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: token, ...extra }, basic: as })

    /** Introspected by a resource server, as an API would (RFC 7662). */
    const active = async (token: string): Promise<boolean> => {
      const answer = await request(`${server.url}/oauth/introspect`, { form: { token }, basic: resourceServer })
      assert.equal(answer.status, 200, answer.text)
      return (answer.body as { active: boolean }).active
    }

    const userinfo = (token: string): Promise<HttpAnswer> => request(`${server.url}/connect/userinfo`, { headers: { authorization: `Bearer ${token}` } })

    const refusedRefresh = async (token: string): Promise<void> => {
      const answer = await refresh(token)
      assert.deepEqual({ status: answer.status, body: answer.body }, { status: 400, body: INVALID_GRANT })
    }

    it('finding 3: a disabled user can no longer refresh, and their access tokens go inactive at once', async () => {
      const username = await newUser()
      const tokens = await login(username, 'api openid profile')
      assert.equal((await userinfo(tokens.access_token)).status, 200)
      await server.server.gatehouse.users.setDisabled(username, true)
      await refusedRefresh(tokens.refresh_token)
      assert.deepEqual([await active(tokens.access_token), await active(tokens.refresh_token)], [false, false])
      assert.equal((await userinfo(tokens.access_token)).status, 401)
      // Enabling them again does not bring the ended grant back.
      await server.server.gatehouse.users.setDisabled(username, false)
      await refusedRefresh(tokens.refresh_token)
    })

    it('finding 3: a user disabled by a path that ends nothing still cannot refresh (the refresh re-checks the user)', async () => {
      const username = await newUser()
      const tokens = await login(username)
      const { store } = server.server.gatehouse
      const user = await store.getUserByUsername(username)
      assert.ok(user)
      await store.updateUser({ ...user, disabled: true })
      await refusedRefresh(tokens.refresh_token)
      await store.updateUser({ ...user, disabled: false })
      assert.equal((await refresh(tokens.refresh_token)).status, 200)
    })

    it('finding 3: a deleted user, and a user whose password changed, end their grants', async () => {
      const deleted = await newUser()
      const first = await login(deleted)
      assert.equal(await server.server.gatehouse.users.delete(deleted), true)
      await refusedRefresh(first.refresh_token)
      assert.equal(await active(first.access_token), false)

      const changed = await newUser()
      const second = await login(changed)
      await server.server.gatehouse.users.setPassword(changed, 'a new and longer password')
      await refusedRefresh(second.refresh_token)
      assert.equal(await active(second.access_token), false)
    })

    it('finding 4: a scope taken from the client no longer comes back on refresh', async () => {
      const own = await server.createClient({ tokenFormat: format, scopes: ['api', 'invoices:write'] })
      const username = await newUser()
      const tokens = await login(username, 'api invoices:write', own)
      await server.server.gatehouse.clients.update(own.id, { scopes: ['api'] })
      const answer = await refresh(tokens.refresh_token, {}, own)
      assert.equal(answer.status, 200, answer.text)
      assert.equal((answer.body as Tokens).scope, 'api')
    })

    it('finding 4: a client that no longer allows the grant type that created the grant cannot refresh it', async () => {
      const own = await server.createClient({ tokenFormat: format })
      const tokens = await login(await newUser(), 'api', own)
      await server.server.gatehouse.clients.update(own.id, { grantTypes: ['client_credentials', 'refresh_token'] })
      const answer = await refresh(tokens.refresh_token, {}, own)
      assert.deepEqual({ status: answer.status, body: answer.body }, { status: 400, body: INVALID_GRANT })
    })

    it('finding 5: narrowing the scope on refresh narrows that access token only, never the grant (RFC 6749 §6)', async () => {
      const tokens = await login(await newUser(), 'api read')
      const narrowed = await refresh(tokens.refresh_token, { scope: 'api' })
      assert.equal(narrowed.status, 200, narrowed.text)
      assert.equal((narrowed.body as Tokens).scope, 'api')
      const next = await refresh((narrowed.body as Tokens).refresh_token)
      assert.equal(next.status, 200, next.text)
      assert.equal((next.body as Tokens).scope, 'api read')
      if (format === 'jwt') assert.equal(jwtPayload((next.body as Tokens).access_token).scope, 'api read')
    })

    it('finding 6: revoking the refresh token (RFC 7009 §2.1) makes the access tokens of its grant inactive', async () => {
      const tokens = await login(await newUser(), 'api openid profile')
      const refreshed = (await refresh(tokens.refresh_token)).body as Tokens
      const revoked = await request(`${server.url}/oauth/revoke`, { form: { token: refreshed.refresh_token }, basic: client })
      assert.equal(revoked.status, 200)
      assert.deepEqual([await active(tokens.access_token), await active(refreshed.access_token)], [false, false])
      assert.equal((await userinfo(refreshed.access_token)).status, 401)
    })

    it('finding 6: reuse detection ends the grant, access tokens included', async () => {
      const tokens = await login(await newUser())
      const next = (await refresh(tokens.refresh_token)).body as Tokens
      await refusedRefresh(tokens.refresh_token)
      assert.deepEqual([await active(tokens.access_token), await active(next.access_token), await active(next.refresh_token)], [false, false, false])
    })

    it("finding 6: deleting a client makes every token of it inactive, its client_credentials tokens too", async () => {
      const doomed = await server.createClient({ tokenFormat: format })
      const user = await login(await newUser(), 'api', doomed)
      const own = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', scope: 'api' }, basic: doomed })
      assert.equal(own.status, 200)
      const machine = (own.body as Tokens).access_token
      assert.equal(await active(machine), true)
      assert.equal(await server.server.gatehouse.clients.delete(doomed.id), true)
      assert.deepEqual([await active(user.access_token), await active(user.refresh_token), await active(machine)], [false, false, false])
    })

    it('finding 6: rotating a secret with "revoke tokens" ends every token issued before; without it, none', async () => {
      const rotating = await server.createClient({ tokenFormat: format })
      const cc = async (): Promise<string> => {
        const answer = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', scope: 'api' }, basic: rotating })
        assert.equal(answer.status, 200, answer.text)
        return (answer.body as Tokens).access_token
      }
      const before = await cc()
      const user = await login(await newUser(), 'api', rotating)
      const plain = await server.server.gatehouse.clients.rotateSecret(rotating.id)
      assert.ok(plain)
      rotating.secret = plain.clientSecret
      assert.deepEqual([await active(before), await active(user.access_token)], [true, true])

      // JWTs carry whole seconds: wait past the second the tokens were issued in.
      await new Promise((resolve) => setTimeout(resolve, 1100))
      const revoking = await server.server.gatehouse.clients.rotateSecret(rotating.id, { revokeTokens: true })
      assert.ok(revoking)
      rotating.secret = revoking.clientSecret
      assert.deepEqual([await active(before), await active(user.access_token), await active(user.refresh_token)], [false, false, false])
      // The new secret's tokens work at once.
      assert.equal(await active(await cc()), true)
    })

    it('JWTs name their grant in `gid`; client_credentials tokens have none', { skip: format !== 'jwt' }, async () => {
      const tokens = await login(await newUser())
      const gid = jwtPayload(tokens.access_token).gid
      assert.equal(typeof gid, 'string')
      const refreshed = (await refresh(tokens.refresh_token)).body as Tokens
      assert.equal(jwtPayload(refreshed.access_token).gid, gid)
      const own = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', scope: 'api' }, basic: client })
      assert.equal(jwtPayload((own.body as Tokens).access_token).gid, undefined)
    })

    it('an operator ends all of a user\'s sessions, with every client, and it is audited', async () => {
      const username = await newUser()
      const other = await server.createClient({ tokenFormat: format })
      const first = await login(username)
      const second = await login(username, 'api', other)
      const bystander = await login(await newUser())
      const ended = await server.server.gatehouse.users.endSessions(username)
      assert.equal(ended?.ended, 2)
      assert.deepEqual(
        [await active(first.access_token), await active(second.access_token), await active(bystander.access_token)],
        [false, false, true],
      )
      await refusedRefresh(first.refresh_token)
      // The user can sign in again.
      assert.equal(await active((await login(username)).access_token), true)
    })
  })
}

describe('grants that end through the API key', () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer()
  })
  after(() => server.close())

  it("finding 6: revoking (rotating) an API key makes its exchanges' access tokens inactive", async () => {
    const owner = await server.createClient({ grantTypes: ['api_key', 'refresh_token'], scopes: ['api'] })
    const { apiKey, key } = await server.server.gatehouse.apiKeys.create({ name: 'ci', clientId: owner.id })
    const exchange = await request(`${server.url}/v2/oauth/request-tokens`, { headers: { 'csc-api-key': apiKey }, method: 'POST' })
    assert.equal(exchange.status, 200, exchange.text)
    const body = exchange.body as Record<string, unknown>
    const accessToken = String(body.accessToken)
    const introspect = async (): Promise<boolean> =>
      ((await request(`${server.url}/oauth/introspect`, { form: { token: accessToken }, basic: owner })).body as { active: boolean }).active
    assert.equal(await introspect(), true)
    assert.equal(await server.server.gatehouse.apiKeys.revoke(key.id), true)
    assert.equal(await introspect(), false)
  })
})

describe('ending a user\'s sessions from the command line', () => {
  it('ends every grant of the user and prints how many', async () => {
    const server = await startTestServer()
    try {
      const client = await server.createClient()
      await server.createUser('cli@example.com', PASSWORD)
      const login = await request(`${server.url}/oauth/token`, { form: { grant_type: 'password', username: 'cli@example.com', password: PASSWORD }, basic: client })
      assert.equal(login.status, 200)
      const result = await runCli(['users', 'end-sessions', 'cli@example.com', '--database', server.database.url, '--json'], { env: { GATEHOUSE_DATA_DIR: server.database.dataDir } })
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(Object.keys(result.json as object), ['user_id', 'ended_grants'])
      assert.equal((result.json as { ended_grants: number }).ended_grants, 1)
      const introspected = await request(`${server.url}/oauth/introspect`, { form: { token: (login.body as Tokens).access_token }, basic: client })
      assert.equal((introspected.body as { active: boolean }).active, false)
    } finally {
      await server.close()
    }
  })
})
