import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request } from '../helpers/http.js'
import { Browser, type Answer } from '../helpers/console-browser.js'

const idOf = (page: Answer): string => /id="client-id">([^<]+)</.exec(page.text)?.[1] ?? ''
const secretOf = (page: Answer): string => /id="client-secret">([^<]+)</.exec(page.text)?.[1] ?? ''

describe('console: Post/Redirect/Get after Generate and Rotate', () => {
  let server: TestServer
  const token = (id: string, secret: string) => request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id, secret } })
  const clientCount = async (): Promise<number> => (await server.server.gatehouse.clients.list({ limit: 500 })).length

  before(async () => {
    server = await startTestServer()
    await server.createUser('ada@example.com', 'ada-password-1')
    await server.createUser('bob@example.com', 'bob-password-1')
  })
  after(() => server.close())

  const signedIn = async (username = 'ada@example.com', password = 'ada-password-1'): Promise<Browser> => {
    const browser = new Browser(server.url)
    await browser.signIn(username, password)
    return browser
  }
  const generate = async (browser: Browser, fields: Record<string, string> = {}): Promise<Answer> => {
    const form = await browser.go('/console/apps/new')
    return browser.go('/console/apps', { _csrf: Browser.csrf(form), name: 'Billing job', app_type: 'machine', scopes: '', token_format: 'jwt', access_token_ttl: '600', ...fields })
  }

  it('answers Generate with 303 to the credentials page and a sealed, HttpOnly, SameSite=Strict cookie for that page only', async () => {
    const ada = await signedIn()
    const before = await clientCount()
    const posted = await generate(ada)
    const location = posted.headers.get('location') ?? ''
    assert.deepEqual([posted.status, posted.headers.get('cache-control'), posted.text], [303, 'no-store', ''])
    const [, clientId = ''] = /^\/console\/apps\/([^/]+)\/credentials$/.exec(location) ?? []
    assert.notEqual(clientId, '')
    const [cookie = ''] = posted.headers.getSetCookie().filter((line) => line.startsWith('gatehouse_console_credentials='))
    assert.match(cookie, new RegExp(`^gatehouse_console_credentials=[\\w-]+\\.[\\w-]+\\.[\\w-]+; Max-Age=300; Path=/console/apps/${clientId}/credentials; HttpOnly; SameSite=Strict$`))
    assert.equal(await clientCount(), before + 1)

    const shown = await ada.go(location)
    assert.deepEqual([shown.status, shown.headers.get('cache-control'), idOf(shown)], [200, 'no-store', clientId])
    const secret = secretOf(shown)
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/)
    // Neither the URL nor the cookie carries the secret in clear, nor does any log line.
    assert.ok(!location.includes(secret) && !cookie.includes(secret))
    assert.ok(!server.logs.text.includes(secret), 'the secret is not logged')
    assert.equal((await token(clientId, secret)).status, 200)
  })

  it('shows the secret once: a reload answers 410 "shown already" with how to rotate, creates nothing, and the secret keeps working', async () => {
    const ada = await signedIn()
    const posted = await generate(ada, { name: 'Reloaded' })
    const location = posted.headers.get('location') ?? ''
    const sealed = ada.cookies.get('gatehouse_console_credentials') ?? ''
    const shown = await ada.go(location)
    const secret = secretOf(shown)
    const before = await clientCount()

    const reloaded = await ada.go(location)
    assert.equal(reloaded.status, 410)
    assert.match(reloaded.text, /<h1>Client Secret shown already<\/h1>/)
    assert.match(reloaded.text, /choose <strong>Rotate secret<\/strong>: you get a new one, and the old one stops working\./)
    assert.doesNotMatch(reloaded.text, /id="client-secret"/)
    // A saved copy of the cookie, replayed, is refused as well: the store remembers it was shown.
    ada.cookies.set('gatehouse_console_credentials', sealed)
    const replayed = await ada.go(location)
    assert.deepEqual([replayed.status, replayed.text.includes(secret)], [410, false])
    assert.equal(await clientCount(), before)
    assert.equal((await token(idOf(shown), secret)).status, 200)
  })

  it('answers Rotate with 303; the new secret is shown once, and a reload neither rotates again nor breaks the secret just copied', async () => {
    const ada = await signedIn()
    const created = await ada.go((await generate(ada, { name: 'Rotated' })).headers.get('location') ?? '')
    const clientId = idOf(created)
    const first = secretOf(created)
    const app = await ada.go(`/console/apps/${clientId}`)
    const posted = await ada.go(`/console/apps/${clientId}/rotate`, { _csrf: Browser.csrf(app) })
    assert.deepEqual([posted.status, posted.headers.get('location'), posted.text], [303, `/console/apps/${clientId}/credentials`, ''])
    const shown = await ada.go(`/console/apps/${clientId}/credentials`)
    const second = secretOf(shown)
    assert.equal(shown.status, 200)
    assert.match(shown.text, /<h1>New credentials for Rotated<\/h1>/)
    assert.match(shown.text, /The previous one no longer works\./)
    assert.notEqual(second, first)
    const reloaded = await ada.go(`/console/apps/${clientId}/credentials`)
    assert.equal(reloaded.status, 410)
    assert.deepEqual([(await token(clientId, first)).status, (await token(clientId, second)).status], [401, 200])
    const rotations = await server.server.gatehouse.audit.list({ limit: 10, action: 'client.secret_rotated', target: `client:${clientId}` })
    assert.equal(rotations.length, 1)
  })

  it("refuses another session the credentials: another of the owner's sessions and another user get nothing, and the owner's view still works", async () => {
    const ada = await signedIn()
    const posted = await generate(ada, { name: 'Private' })
    const location = posted.headers.get('location') ?? ''
    const sealed = ada.cookies.get('gatehouse_console_credentials') ?? ''

    const otherSession = await signedIn()
    otherSession.cookies.set('gatehouse_console_credentials', sealed)
    const stolen = await otherSession.go(location)
    assert.deepEqual([stolen.status, /id="client-secret"/.test(stolen.text)], [410, false])

    const bob = await signedIn('bob@example.com', 'bob-password-1')
    bob.cookies.set('gatehouse_console_credentials', sealed)
    const foreign = await bob.go(location)
    assert.deepEqual([foreign.status, /id="client-secret"/.test(foreign.text)], [404, false])

    const anonymous = new Browser(server.url)
    anonymous.cookies.set('gatehouse_console_credentials', sealed)
    const visitor = await anonymous.go(location)
    assert.deepEqual([visitor.status, visitor.headers.get('location')], [303, '/console/login'])

    const owner = await ada.go(location)
    assert.equal(owner.status, 200)
    assert.match(secretOf(owner), /^[A-Za-z0-9_-]{43}$/)
  })

  it('refuses a tampered cookie, or one made for another application', async () => {
    const ada = await signedIn()
    const one = await generate(ada, { name: 'One' })
    const sealedOne = ada.cookies.get('gatehouse_console_credentials') ?? ''
    const two = await generate(ada, { name: 'Two' })
    const [iv = '', tag = '', body = ''] = (ada.cookies.get('gatehouse_console_credentials') ?? '').split('.')
    const flipped = body.slice(0, -2) + (body.endsWith('AA') ? 'BB' : 'AA')
    ada.cookies.set('gatehouse_console_credentials', `${iv}.${tag}.${flipped}`)
    assert.equal((await ada.go(two.headers.get('location') ?? '')).status, 410)
    ada.cookies.set('gatehouse_console_credentials', sealedOne)
    assert.equal((await ada.go(two.headers.get('location') ?? '')).status, 410)
    // Shown to the wrong page, it was not used up: its own page still shows it.
    ada.cookies.set('gatehouse_console_credentials', sealedOne)
    assert.equal((await ada.go(one.headers.get('location') ?? '')).status, 200)
  })

  it('shows a public application its Client ID on every visit: it has no secret to lose', async () => {
    const ada = await signedIn()
    const posted = await generate(ada, { name: 'Shop', app_type: 'spa', redirect_uris: 'https://shop.example.com/cb' })
    const location = posted.headers.get('location') ?? ''
    for (let visit = 0; visit < 2; visit++) {
      const shown = await ada.go(location)
      assert.equal(shown.status, 200)
      assert.match(shown.text, /This is a public application: it has no Client Secret/)
    }
  })

  it('answers any cookie value on the credentials page with 410, never a 5xx nor a secret (property)', async () => {
    const ada = await signedIn()
    const posted = await generate(ada, { name: 'Fuzzed' })
    const location = posted.headers.get('location') ?? ''
    const part = fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/)
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.tuple(part, part, part).map((parts) => parts.join('.')), fc.stringMatching(/^[\x21-\x2b\x2d-\x3a\x3c-\x7e]{0,80}$/)), async (value) => {
        ada.cookies.set('gatehouse_console_credentials', value)
        const answer = await ada.go(location)
        assert.equal(answer.status, 410, value)
        assert.doesNotMatch(answer.text, /id="client-secret"/)
      }),
      { numRuns: 60 },
    )
    ada.cookies.delete('gatehouse_console_credentials')
  })
})
