import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { jwtPayload, request } from '../helpers/http.js'
import { Browser, alertText, type Answer } from '../helpers/console-browser.js'

const ORDERS = 'https://orders.example.com/'
const idOf = (page: Answer): string => /id="client-id">([^<]+)</.exec(page.text)?.[1] ?? ''
const secretOf = (page: Answer): string => /id="client-secret">([^<]+)</.exec(page.text)?.[1] ?? ''
const issuedOn = (page: Answer): string => /<strong id="tokens-issued">(\d+)<\/strong>/.exec(page.text)?.[1] ?? ''
const byGrantOn = (page: Answer): string[][] => [...(/<ul class="usage" id="tokens-by-grant">(.*?)<\/ul>/.exec(page.text)?.[1] ?? '').matchAll(/<li><span>([^<]+)<\/span><strong>(\d+)<\/strong><\/li>/g)].map((match) => [match[1] ?? '', match[2] ?? ''])

async function registerOrders(server: TestServer): Promise<void> {
  await server.server.gatehouse.apis.create({
    identifier: ORDERS,
    name: 'Orders',
    scopes: [
      { name: 'orders:read', description: 'Read your orders', selfService: true },
      { name: 'orders:write', description: 'Place orders', selfService: true },
      { name: 'orders:admin', description: 'Every order of everyone' },
    ],
  })
}

async function createApp(browser: Browser, fields: Record<string, string> = {}): Promise<{ id: string; secret: string }> {
  const form = await browser.go('/console/apps/new')
  const shown = await browser.submit('/console/apps', { _csrf: Browser.csrf(form), name: 'Orders sync', app_type: 'machine', scope: 'orders:read', scopes: '', token_format: 'jwt', access_token_ttl: '600', ...fields })
  assert.equal(shown.status, 200, alertText(shown))
  return { id: idOf(shown), secret: secretOf(shown) }
}

const token = (server: TestServer, app: { id: string; secret: string }) => request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: app })

describe('console application page', () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer({ env: { GATEHOUSE_MAX_ACCESS_TOKEN_TTL: '3600' } })
    await registerOrders(server)
    await server.createUser('ada@example.com', 'ada-password-1')
    await server.createUser('bob@example.com', 'bob-password-1')
  })
  after(() => server.close())

  const signedIn = async (username = 'ada@example.com', password = 'ada-password-1'): Promise<Browser> => {
    const browser = new Browser(server.url)
    await browser.signIn(username, password)
    return browser
  }

  it('offers a copy button for the Client ID, and names people by username in the activity table', async () => {
    const ada = await signedIn()
    const app = await createApp(ada)
    const page = await ada.go(`/console/apps/${app.id}`)
    assert.equal(page.status, 200)
    assert.match(page.text, new RegExp(`<dt>Client ID</dt><dd><div class="secret inline"><code class="value" id="client-id">${app.id}</code><button type="button" data-copy="client-id" hidden>Copy</button></div></dd>`))
    const adaId = (await server.server.gatehouse.users.find('ada@example.com'))?.id ?? ''
    const rows = [...page.text.matchAll(/<tr><td data-label="When">[^<]+<\/td><td data-label="Event" class="mono">([^<]+)<\/td><td data-label="By">([^<]+)<\/td>/g)].map((match) => [match[1], match[2]])
    assert.deepEqual(rows, [['client.created', 'ada@example.com']])
    assert.ok(!page.text.includes(`user:${adaId}`))
  })

  it('shows the tokens issued per grant type, and deletes the counts with the application', async () => {
    const ada = await signedIn()
    const app = await createApp(ada)
    for (let i = 0; i < 3; i++) assert.equal((await token(server, app)).status, 200)
    const page = await ada.go(`/console/apps/${app.id}`)
    assert.deepEqual([issuedOn(page), byGrantOn(page)], ['3', [['client credentials', '3']]])
    assert.match(page.text, /Counted on every Gatehouse instance and kept across restarts/)
    await server.server.gatehouse.activity.flush()
    assert.deepEqual((await server.server.gatehouse.store.listClientUsage(app.id)).map(({ grantType, count }) => [grantType, count]), [['client_credentials', 3]])
    assert.equal((await ada.go(`/console/apps/${app.id}/delete`, { _csrf: Browser.csrf(page) })).status, 303)
    assert.deepEqual(await server.server.gatehouse.store.listClientUsage(app.id), [])
  })

  describe('editing', () => {
    it('shows the form filled in with the application as it is, under the strict CSP', async () => {
      const ada = await signedIn()
      const app = await createApp(ada, { scope: 'orders:read', access_token_ttl: '900' })
      const form = await ada.go(`/console/apps/${app.id}/edit`)
      assert.equal(form.status, 200)
      assert.match(form.text, /<input name="name" required maxlength="200" value="Orders sync">/)
      assert.match(form.text, /<input type="checkbox" name="scope" value="orders:read" checked>/)
      assert.match(form.text, /<input type="checkbox" name="scope" value="orders:write"><code>/)
      assert.doesNotMatch(form.text, /orders:admin/)
      assert.match(form.text, /<input name="access_token_ttl" type="number" min="1" max="3600" required value="900">/)
      assert.doesNotMatch(form.text, /style="|<script>|onclick=/)
    })

    it('changes name, scopes and token lifetime: 303 to the page, an audit event, and tokens carry the new settings', async () => {
      const ada = await signedIn()
      const app = await createApp(ada)
      const form = await ada.go(`/console/apps/${app.id}/edit`)
      const saved = await ada.go(`/console/apps/${app.id}/edit`, { _csrf: Browser.csrf(form), name: '  Orders sync v2 ', scope: 'orders:write', scopes: '', access_token_ttl: '120' })
      assert.deepEqual([saved.status, saved.headers.get('location'), saved.text], [303, `/console/apps/${app.id}?updated=1`, ''])
      const page = await ada.go(saved.headers.get('location') ?? '')
      assert.match(page.text, /<div class="alert success" role="status">Changes saved\.<\/div>/)
      assert.match(page.text, /<h1>Orders sync v2<\/h1>/)
      assert.match(page.text, /<dt>Scopes<\/dt><dd class="mono">orders:write<\/dd>/)
      assert.match(page.text, /<dt>Token lifetime<\/dt><dd>120 s<\/dd>/)
      assert.match(page.text, /<td data-label="Event" class="mono">client\.updated \(name, access_token_ttl, scopes\)<\/td><td data-label="By">ada@example\.com<\/td>/)
      const issued = await token(server, app)
      const body = issued.body as Record<string, unknown>
      assert.deepEqual([issued.status, body.scope, body.expires_in, jwtPayload(String(body.access_token)).scope], [200, 'orders:write', 120, 'orders:write'])
      const [event] = await server.server.gatehouse.audit.list({ limit: 1, action: 'client.updated', target: `client:${app.id}` })
      assert.deepEqual([event?.actor, event?.details], [`user:${(await server.server.gatehouse.users.find('ada@example.com'))?.id}`, { fields: ['name', 'access_token_ttl', 'scopes'], scopes: ['orders:write'], via: 'console' }])
    })

    it('refuses bad input on the form with a clear message, keeping what was typed, and changes nothing', async () => {
      const ada = await signedIn()
      const app = await createApp(ada)
      const before = await server.server.gatehouse.clients.get(app.id)
      const form = await ada.go(`/console/apps/${app.id}/edit`)
      const csrf = Browser.csrf(form)
      for (const [fields, message] of [
        [{ access_token_ttl: '0' }, 'Token lifetime must be a whole number of seconds from 1 to 3600.'],
        [{ access_token_ttl: '3601' }, 'Token lifetime must be a whole number of seconds from 1 to 3600.'],
        [{ access_token_ttl: '1.5' }, 'Token lifetime must be a whole number of seconds from 1 to 3600.'],
        [{ access_token_ttl: 'soon' }, 'Token lifetime must be a whole number of seconds from 1 to 3600.'],
        [{ name: '   ' }, 'App Name must not be empty.'],
        [{ name: 'x'.repeat(201) }, 'App Name must be at most 200 characters.'],
        [{ scopes: 'orders:admin' }, 'Scope "orders:admin" of Orders (https://orders.example.com/) is restricted: only an operator can grant it. Choose from the scopes listed on this page, or ask an operator.'],
        [{ scopes: 'management-api' }, 'Scope "management-api" is not a scope of any registered API. Choose from the scopes listed on this page, or ask an operator.'],
      ] as const) {
        const refused = await ada.go(`/console/apps/${app.id}/edit`, { _csrf: csrf, name: 'Renamed', scope: 'orders:read', scopes: '', access_token_ttl: '300', ...fields })
        assert.deepEqual([refused.status, alertText(refused)], [400, message], JSON.stringify(fields))
        const typed = 'name' in fields ? fields.name : 'Renamed'
        assert.ok(refused.text.includes(`<input name="name" required maxlength="200" value="${typed}">`), JSON.stringify(fields))
      }
      assert.deepEqual(await server.server.gatehouse.clients.get(app.id), before)
    })

    it("keeps a scope an operator granted, which the developer could not add", async () => {
      const ada = await signedIn()
      const app = await createApp(ada)
      await server.server.gatehouse.clients.update(app.id, { scopes: ['orders:read', 'orders:admin'] })
      const form = await ada.go(`/console/apps/${app.id}/edit`)
      assert.match(form.text, /<input name="scopes" value="orders:admin"/)
      const saved = await ada.go(`/console/apps/${app.id}/edit`, { _csrf: Browser.csrf(form), name: 'Orders sync', scope: 'orders:read', scopes: 'orders:admin', access_token_ttl: '600' })
      assert.equal(saved.status, 303)
      assert.deepEqual((await server.server.gatehouse.clients.get(app.id))?.scopes, ['orders:read', 'orders:admin'])
    })

    it("refuses a post without the CSRF token, and another user's edit (404), changing nothing", async () => {
      const ada = await signedIn()
      const app = await createApp(ada)
      const before = await server.server.gatehouse.clients.get(app.id)
      const forged = await ada.go(`/console/apps/${app.id}/edit`, { name: 'Hijacked', access_token_ttl: '60' })
      assert.equal(forged.status, 403)
      assert.match(forged.text, /did not come from this console/)
      const bob = await signedIn('bob@example.com', 'bob-password-1')
      const dashboard = await bob.go('/console')
      assert.equal((await bob.go(`/console/apps/${app.id}/edit`)).status, 404)
      assert.equal((await bob.go(`/console/apps/${app.id}/edit`, { _csrf: Browser.csrf(dashboard), name: 'Hijacked', access_token_ttl: '60' })).status, 404)
      assert.deepEqual(await server.server.gatehouse.clients.get(app.id), before)
    })

    it('changes only the name and lifetime of an API-key application (its key fixes the scopes)', async () => {
      const ada = await signedIn()
      const form = await ada.go('/console/apps/new')
      const created = await ada.submit('/console/apps', { _csrf: Browser.csrf(form), name: 'Export key', app_type: 'api_key', scope: 'orders:read', scopes: '', token_format: 'opaque', access_token_ttl: '600' })
      const id = /<a class="button primary" href="\/console\/apps\/([^"/]+)">Done<\/a>/.exec(created.text)?.[1] ?? ''
      assert.notEqual(id, '')
      const edit = await ada.go(`/console/apps/${id}/edit`)
      assert.match(edit.text, /<p class="mono">orders:read<\/p><p class="muted small">An API key's scopes are fixed when it is made\./)
      assert.doesNotMatch(edit.text, /name="scope"/)
      const saved = await ada.go(`/console/apps/${id}/edit`, { _csrf: Browser.csrf(edit), name: 'Export key 2', scopes: 'orders:write', access_token_ttl: '60' })
      assert.equal(saved.status, 303)
      const client = await server.server.gatehouse.clients.get(id)
      assert.deepEqual([client?.name, client?.accessTokenTtl], ['Export key 2', 60])
      const page = await ada.go(`/console/apps/${id}`)
      assert.match(page.text, /<dt>Scopes<\/dt><dd class="mono">orders:read<\/dd>/)
    })

    it('answers any edit form with 303, 400 or 403 and never a 5xx, leaving a valid application (property)', async () => {
      const ada = await signedIn()
      const app = await createApp(ada)
      const form = await ada.go(`/console/apps/${app.id}/edit`)
      const csrf = Browser.csrf(form)
      const field = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', '0', '1', '3600', '3601', '-5', '1e3', 'orders:read', 'orders:admin', 'openid offline_access'))
      await fc.assert(
        fc.asyncProperty(fc.record({ _csrf: fc.oneof(fc.constant(csrf), fc.string({ maxLength: 10 })), name: field, scope: field, scopes: field, access_token_ttl: field }, { requiredKeys: [] }), async (fields) => {
          const answer = await ada.go(`/console/apps/${app.id}/edit`, fields)
          assert.ok([303, 400, 403].includes(answer.status), `${answer.status} for ${JSON.stringify(fields)}`)
          if (answer.status === 400) assert.notEqual(alertText(answer), '')
          const client = await server.server.gatehouse.clients.get(app.id)
          assert.ok(client && client.name.trim() !== '' && client.accessTokenTtl >= 1 && client.accessTokenTtl <= 3600 && !client.scopes.includes('orders:admin'))
        }),
        { numRuns: 60 },
      )
    })
  })
})

describe('console usage counts across instances and restarts', () => {
  let database: TestDatabase
  before(async () => {
    database = await createTestDatabase()
  })
  after(() => database.drop())

  it('adds every instance its counts, and keeps them across a restart (flushed on shutdown)', async () => {
    const first = await startTestServer({ database })
    await registerOrders(first)
    await first.createUser('ada@example.com', 'ada-password-1')
    const second = await startTestServer({ database })
    const running = new Set<TestServer>([first, second])
    const stop = async (instance: TestServer): Promise<void> => {
      running.delete(instance)
      await instance.close()
    }
    try {
      const ada = new Browser(first.url)
      await ada.signIn('ada@example.com', 'ada-password-1')
      const app = await createApp(ada)
      for (let i = 0; i < 2; i++) assert.equal((await token(first, app)).status, 200)
      // What the timer does every few seconds.
      await first.server.gatehouse.activity.flush()
      assert.equal((await token(second, app)).status, 200)

      const onSecond = new Browser(second.url)
      await onSecond.signIn('ada@example.com', 'ada-password-1')
      // The second instance reads the first's flushed 2 and its own unflushed 1.
      assert.deepEqual([issuedOn(await onSecond.go(`/console/apps/${app.id}`))], ['3'])
      assert.deepEqual([issuedOn(await ada.go(`/console/apps/${app.id}`))], ['2'])
      await second.server.gatehouse.activity.flush()
      assert.deepEqual([issuedOn(await ada.go(`/console/apps/${app.id}`))], ['3'])

      assert.equal((await token(second, app)).status, 200)
      await stop(second)
      await stop(first)
      const third = await startTestServer({ database })
      running.add(third)
      const later = new Browser(third.url)
      await later.signIn('ada@example.com', 'ada-password-1')
      const page = await later.go(`/console/apps/${app.id}`)
      assert.deepEqual([issuedOn(page), byGrantOn(page)], ['4', [['client credentials', '4']]])
    } finally {
      for (const instance of running) await instance.close()
    }
  })
})
