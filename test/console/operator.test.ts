import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { Browser, alertText, type Answer } from '../helpers/console-browser.js'

const OPERATOR_PAGES = ['/console/operator', '/console/operator/clients', '/console/operator/users', '/console/operator/api-keys', '/console/operator/signing-keys', '/console/operator/audit']

/** Table rows of a page, each as its cells' text. */
const rows = (page: Answer): string[][] =>
  [...(/<tbody>([\s\S]*?)<\/tbody>/.exec(page.text)?.[1] ?? '').matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) => [...(row[1] ?? '').matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => (cell[1] ?? '').replace(/<[^>]+>/g, '').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').trim()))

describe('console operator section', () => {
  let server: TestServer
  const ids: Record<string, string> = {}

  before(async () => {
    server = await startTestServer({ env: { GATEHOUSE_LOCKOUT: '2/15m' } })
    for (const name of ['root', 'viewer', 'dev', 'carol']) ids[name] = (await server.createUser(`${name}@example.com`, `${name}-password-1`)).id
    await server.server.gatehouse.operators.put('user', 'root@example.com', 'admin')
    await server.server.gatehouse.operators.put('user', 'viewer@example.com', 'read-only')
  })
  after(() => server.close())

  const signedIn = async (name: string): Promise<Browser> => {
    const browser = new Browser(server.url)
    const answer = await browser.signIn(`${name}@example.com`, `${name}-password-1`)
    assert.equal(answer.status, 303, `${name} signs in`)
    return browser
  }
  /** Locks carol out: two wrong passwords from this address (GATEHOUSE_LOCKOUT 2/15m). */
  const lockCarol = async (): Promise<void> => {
    const browser = new Browser(server.url)
    for (let i = 0; i < 2; i++) assert.equal((await browser.signIn('carol@example.com', `wrong-guess-${i}`)).status, 401)
    assert.equal((await browser.signIn('carol@example.com', 'carol-password-1')).status, 401, 'carol is locked out')
  }
  const carolCanSignIn = async (): Promise<boolean> => (await new Browser(server.url).signIn('carol@example.com', 'carol-password-1')).status === 303
  const unlockEvents = () => server.server.gatehouse.audit.list({ limit: 50, action: 'user.unlocked', target: `user:${ids.carol}` })

  it('answers a non-operator exactly as an unknown console path (404), and shows no Operator link', async () => {
    const dev = await signedIn('dev')
    const unknown = await dev.go('/console/no-such-page')
    assert.equal(unknown.status, 404)
    for (const path of OPERATOR_PAGES) {
      const answer = await dev.go(path)
      assert.deepEqual([answer.status, answer.headers.get('content-type'), answer.text], [404, unknown.headers.get('content-type'), unknown.text.replace('/console/no-such-page', path)], path)
    }
    assert.doesNotMatch((await dev.go('/console')).text, /href="\/console\/operator"/)
    // Not signed in at all: the sign-in page, as for every console page.
    const visitor = await new Browser(server.url).go('/console/operator/users')
    assert.deepEqual([visitor.status, visitor.headers.get('location')], [303, '/console/login'])
  })

  it("refuses a non-operator's unlock with the same 404, unlocking nothing", async () => {
    await lockCarol()
    const dev = await signedIn('dev')
    const dashboard = await dev.go('/console')
    const answer = await dev.go(`/console/operator/users/${ids.carol}/unlock`, { _csrf: Browser.csrf(dashboard) })
    assert.equal(answer.status, 404)
    assert.equal(answer.text, (await dev.go('/console/no-such-page')).text.replace('GET /console/no-such-page', `POST /console/operator/users/${ids.carol}/unlock`))
    assert.equal(await carolCanSignIn(), false)
    assert.deepEqual(await unlockEvents(), [])
    // Audited as the management API audits a refused call (queued, so flushed here).
    await server.server.gatehouse.audit.flush()
    const [refusal] = await server.server.gatehouse.audit.list({ limit: 1, action: 'management.authorization_failed', actor: `user:${ids.dev}` })
    assert.deepEqual([refusal?.ip, refusal?.details], ['127.0.0.1', { path: `/console/operator/users/${ids.carol}/unlock`, reason: `user:${ids.dev} is not an operator`, via: 'console' }])
  })

  it('lists every application (with its console owner), user, API key and signing key to an operator, without a secret', async () => {
    const root = await signedIn('root')
    assert.match((await root.go('/console')).text, /<a class="link" href="\/console\/operator">Operator<\/a>/)
    const dev = await signedIn('dev')
    const form = await dev.go('/console/apps/new')
    const created = await dev.submit('/console/apps', { _csrf: Browser.csrf(form), name: "Dev's job", app_type: 'machine', scopes: '', token_format: 'jwt', access_token_ttl: '600' })
    const devSecret = /id="client-secret">([^<]+)</.exec(created.text)?.[1] ?? ''
    const devClient = /id="client-id">([^<]+)</.exec(created.text)?.[1] ?? ''
    const other = await server.createClient({ name: 'CLI client' })
    const { key, apiKey } = await server.server.gatehouse.apiKeys.create({ name: 'ci key', scopes: [] })

    const overview = await root.go('/console/operator')
    assert.deepEqual([overview.status, overview.headers.get('location')], [303, '/console/operator/clients'])
    const clients = await root.go('/console/operator/clients')
    assert.equal(clients.status, 200)
    assert.match(clients.text, /<span class="badge" id="operator-role">admin<\/span>/)
    const listed = rows(clients)
    assert.deepEqual(listed.find((row) => row[1] === devClient)?.slice(0, 6), ["Dev's job", devClient, 'machine', 'client_credentials', '—', 'dev@example.com'])
    assert.deepEqual(listed.find((row) => row[1] === other.id)?.slice(0, 2), ['CLI client', other.id])
    const users = await root.go('/console/operator/users')
    assert.deepEqual(rows(users).map((row) => row[0]).sort(), ['carol@example.com', 'dev@example.com', 'root@example.com', 'viewer@example.com'])
    const keys = await root.go('/console/operator/api-keys')
    assert.deepEqual(rows(keys).find((row) => row[0] === key.id)?.slice(0, 5), [key.id, 'ci key', key.clientId, '—', 'active'])
    const signing = await root.go('/console/operator/signing-keys')
    assert.deepEqual(rows(signing).map((row) => row.slice(0, 3)).sort(), server.server.gatehouse.keys.describe().map((k) => [k.kid, k.alg, 'active']).sort())
    const everything = [clients, users, keys, signing].map((page) => page.text).join('\n')
    for (const secret of [devSecret, other.secret, apiKey, apiKey.split(':')[1] ?? '']) assert.ok(secret !== '' && !everything.includes(secret), 'no secret on the pages')
    assert.doesNotMatch(everything, /\$argon2|"d":|privateJwk/)
  })

  it('unlocks a locked-out user for an admin: 303, a notice, an audit event as the management API writes, and the user signs in', async () => {
    await lockCarol()
    const root = await signedIn('root')
    const users = await root.go('/console/operator/users')
    assert.match(users.text, new RegExp(`<form method="post" action="/console/operator/users/${ids.carol}/unlock"`))
    const answer = await root.go(`/console/operator/users/${ids.carol}/unlock`, { _csrf: Browser.csrf(users) })
    assert.deepEqual([answer.status, answer.headers.get('location'), answer.text], [303, `/console/operator/users?unlocked=${ids.carol}`, ''])
    const after = await root.go(answer.headers.get('location') ?? '')
    assert.match(after.text, /<div class="alert success" role="status">carol@example\.com is unlocked: they may sign in again at once\.<\/div>/)
    assert.equal(await carolCanSignIn(), true)
    const [event] = await unlockEvents()
    assert.deepEqual([event?.actor, event?.target, event?.ip, event?.details.via, typeof event?.details.locked_for], [`user:${ids.root}`, `user:${ids.carol}`, '127.0.0.1', 'console', 'number'])
    assert.ok(Number(event?.details.locked_for) > 0, 'the lock had time left')
  })

  it('shows a read-only operator the lists but refuses the unlock (403, audited), unlocking nothing', async () => {
    await lockCarol()
    const before = (await unlockEvents()).length
    const viewer = await signedIn('viewer')
    const users = await viewer.go('/console/operator/users')
    assert.equal(users.status, 200)
    assert.match(users.text, /<span class="badge" id="operator-role">read-only<\/span>/)
    assert.doesNotMatch(users.text, /\/unlock"/)
    assert.match(users.text, /<span class="muted">admin role only<\/span>/)
    const answer = await viewer.go(`/console/operator/users/${ids.carol}/unlock`, { _csrf: Browser.csrf(users) })
    assert.equal(answer.status, 403)
    assert.match(answer.text, /Your operator role is read-only: you can see users but not unlock them\./)
    assert.equal(await carolCanSignIn(), false)
    assert.equal((await unlockEvents()).length, before)
    const [refusal] = await server.server.gatehouse.audit.list({ limit: 1, action: 'management.authorization_failed', actor: `user:${ids.viewer}` })
    assert.deepEqual([refusal?.target, refusal?.details], [`user:${ids.carol}`, { path: `/console/operator/users/${ids.carol}/unlock`, reason: 'read-only operator; unlocking needs the admin role', via: 'console' }])
  })

  it("refuses a cross-site unlock: no CSRF token, or another session's, is 403 and unlocks nothing", async () => {
    const root = await signedIn('root')
    const before = (await unlockEvents()).length
    const missing = await root.go(`/console/operator/users/${ids.carol}/unlock`, {})
    assert.equal(missing.status, 403)
    assert.match(missing.text, /did not come from this console/)
    const otherSession = await signedIn('root')
    const foreign = await root.go(`/console/operator/users/${ids.carol}/unlock`, { _csrf: Browser.csrf(await otherSession.go('/console')) })
    assert.equal(foreign.status, 403)
    assert.equal(await carolCanSignIn(), false)
    assert.equal((await unlockEvents()).length, before)
  })

  it('takes an operator off the list at once: the next page is 404', async () => {
    await server.server.gatehouse.operators.put('user', 'dev@example.com', 'read-only')
    const dev = await signedIn('dev')
    assert.equal((await dev.go('/console/operator/users')).status, 200)
    await server.server.gatehouse.operators.remove('user', 'dev@example.com')
    assert.equal((await dev.go('/console/operator/users')).status, 404)
  })

  describe('the audit log', () => {
    it('filters by event type, application, user and time range', async () => {
      const root = await signedIn('root')
      const g = server.server.gatehouse
      const client = await server.createClient({ name: 'Filtered' })
      await g.audit.record({ actor: `user:${ids.root}`, action: 'client.updated', target: `client:${client.id}`, ip: '10.0.0.1', details: { fields: ['name'] } })
      await g.audit.record({ actor: 'anonymous', action: 'user.authentication_failed', target: 'user:dev@example.com', ip: '10.0.0.2', details: { reason: 'wrong password' } })
      const byType = rows(await root.go('/console/operator/audit?action=client.updated'))
      assert.ok(byType.length >= 1 && byType.every((row) => row[1] === 'client.updated'))
      assert.deepEqual(rows(await root.go(`/console/operator/audit?client=${client.id}`)).map((row) => row.slice(1, 5)), [['client.updated', 'root@example.com (user)', `client:${client.id}`, '10.0.0.1']])
      // A user's events: by them (user:<id>) and about them, failed sign-ins by username included.
      const devEvents = rows(await root.go('/console/operator/audit?user=dev%40example.com'))
      assert.ok(devEvents.some((row) => row[1] === 'user.authentication_failed' && row[3] === 'user:dev@example.com' && row[5] === 'reason: wrong password'))
      assert.ok(devEvents.some((row) => row[1] === 'client.created' && row[2] === 'dev@example.com (user)'))
      assert.ok(devEvents.every((row) => row[2] === 'dev@example.com (user)' || row[3] === 'user:dev@example.com' || row[3] === 'dev@example.com (user)'))
      const future = rows(await root.go('/console/operator/audit?from=2100-01-01T00%3A00'))
      assert.deepEqual(future, [])
      const past = await root.go('/console/operator/audit?to=2000-01-01T00%3A00')
      assert.deepEqual([past.status, rows(past)], [200, []])
      assert.match(past.text, /<p class="empty">No events match\.<\/p>/)
    })

    it('refuses a bad time or page link on the form with 400 and what to fix, keeping the filters', async () => {
      const root = await signedIn('root')
      for (const [query, message] of [
        ['from=yesterday', 'From must be a date and time, e.g. 2026-12-02T10:30 (UTC).'],
        ['to=2026-13-45T99%3A99', 'To must be a date and time, e.g. 2026-12-02T10:30 (UTC).'],
        ['from=2026-12-02T10%3A00&to=2026-12-02T09%3A00', 'From must be before To.'],
        ['after=not-a-cursor', 'That page link is not one this console gave; start again from the first page.'],
      ]) {
        const answer = await root.go(`/console/operator/audit?action=user.created&${query}`)
        assert.deepEqual([answer.status, alertText(answer)], [400, message], query)
        assert.match(answer.text, /<input name="action" value="user.created"/)
      }
    })

    it('pages through the log newest first, without gaps or repeats', async () => {
      const root = await signedIn('root')
      for (let i = 0; i < 120; i++) await server.server.gatehouse.audit.record({ actor: 'gatehouse', action: 'test.paged', target: `thing:${i}` })
      const seen: string[] = []
      let path = '/console/operator/audit?action=test.paged'
      for (let pages = 0; pages < 10; pages++) {
        const answer = await root.go(path)
        assert.equal(answer.status, 200)
        seen.push(...rows(answer).map((row) => row[3] ?? ''))
        const next = /<a class="button" href="([^"]+)" rel="next">Next page<\/a>/.exec(answer.text)?.[1]
        if (!next) break
        path = next.replace(/&amp;/g, '&')
        assert.match(path, /^\/console\/operator\/audit\?action=test\.paged&after=/)
      }
      assert.deepEqual(seen, Array.from({ length: 120 }, (_, i) => `thing:${119 - i}`))
    })

    it('answers any filter query with 200 or 400, never a 5xx (property)', async () => {
      const root = await signedIn('root')
      const value = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('2026-12-02T10:30', '2026-12-02T10:30:00Z', '2026-12-02T10:30+02:00', 'user:x', '%', ''))
      await fc.assert(
        fc.asyncProperty(fc.record({ action: value, client: value, user: value, from: value, to: value, after: value }, { requiredKeys: [] }), async (params) => {
          const answer = await root.go(`/console/operator/audit?${new URLSearchParams(params).toString()}`)
          assert.ok([200, 400].includes(answer.status), `${answer.status} for ${JSON.stringify(params)}`)
          if (answer.status === 400) assert.notEqual(alertText(answer), '')
        }),
        { numRuns: 60 },
      )
    })
  })
})
