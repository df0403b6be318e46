import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request } from '../helpers/http.js'
import { snippet, tokenRequest } from '../../src/snippets/index.js'
import { assertionFields, clientKey, signAssertion } from '../helpers/assertions.js'

const CHROMIUM = '/usr/bin/chromium'
const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'console')
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

// In CI a missing browser is a failure, not a skip (.ci/run installs it).
const missing = !existsSync(CHROMIUM)
if (missing && process.env.CI) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`)

describe('developer console in headless Chromium', { skip: missing ? `${CHROMIUM} is not installed` : false }, () => {
  let server: TestServer
  let browser: Browser
  let context: BrowserContext
  let page: Page

  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
  const token = (id: string, secret: string) => request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id, secret } })

  before(async () => {
    mkdirSync(SHOTS, { recursive: true })
    server = await startTestServer()
    await server.createUser('dev@example.com', 'developer-password', 'Dev')
    // The console offers only self-service scopes of registered APIs: an operator registers them first.
    await server.server.gatehouse.apis.create({
      identifier: 'https://orders.example.com/',
      name: 'Orders API',
      scopes: [
        { name: 'orders:read', description: 'Read your orders and their status', selfService: true },
        { name: 'orders:write', description: 'Place, change and cancel orders', selfService: true },
        { name: 'orders:admin', description: 'Every order of every customer' },
      ],
    })
    await server.server.gatehouse.apis.create({ identifier: 'https://exports.example.com/', name: 'Exports', scopes: [{ name: 'export', description: 'Download nightly exports of your data', selfService: true }] })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url })
    page = await context.newPage()
    page.on('dialog', (dialog) => void dialog.accept())
  })
  after(async () => {
    await browser?.close()
    await server?.close()
  })

  it('refuses a wrong password, then signs in', async () => {
    await page.goto(`${server.url}/console`)
    assert.equal(new URL(page.url()).pathname, '/console/login')
    await shot('01-login')
    await page.fill('input[name=username]', 'dev@example.com')
    await page.fill('input[name=password]', 'not-my-password')
    await page.click('button[type=submit]')
    assert.equal(await page.textContent('[role=alert]'), 'Invalid username or password.')
    await page.fill('input[name=password]', 'developer-password')
    await page.click('button[type=submit]')
    await page.waitForURL(`${server.url}/console`)
    assert.equal(await page.textContent('.empty'), 'No applications yet. Create one to get a Client ID and Client Secret.')
    await shot('02-no-applications')
    const cookies = await context.cookies()
    const session = cookies.find((entry) => entry.name === 'gatehouse_console')
    assert.deepEqual([session?.httpOnly, session?.sameSite, session?.secure, session?.path], [true, 'Strict', false, '/console'])
  })

  let clientId = ''
  let secret = ''

  it('creates an application and copies its Client ID and Client Secret, shown once', async () => {
    await page.click('text=Create application')
    await page.fill('input[name=name]', 'Order sync')
    await page.check('input[name=app_type][value=machine]')
    // The redirect URIs field is only for the sign-in application types (console.js hides it otherwise).
    assert.equal(await page.isVisible('#redirect-uris-field'), false)
    assert.deepEqual(await page.locator('#available-scopes input[name=scope]').evaluateAll((boxes) => boxes.map((box) => (box as HTMLInputElement).value)), ['openid', 'profile', 'email', 'offline_access', 'export', 'orders:read', 'orders:write'])
    await page.check('input[name=scope][value="orders:read"]')
    await page.check('input[name=scope][value="orders:write"]')
    await page.selectOption('select[name=token_format]', 'jwt')
    await page.fill('input[name=access_token_ttl]', '600')
    // A full-page screenshot while a number input has focus leaves Chromium ignoring the next click on Generate.
    await page.locator('input[name=access_token_ttl]').blur()
    await shot('03-create-application')
    await page.click('button:has-text("Generate")')
    await page.waitForSelector('#client-secret')
    await shot('04-credentials-shown-once')
    assert.match((await page.textContent('[role=alert]')) ?? '', /shown only once/)

    await page.click('button[data-copy=client-id]')
    clientId = await page.evaluate(() => navigator.clipboard.readText())
    await page.click('button[data-copy=client-secret]')
    secret = await page.evaluate(() => navigator.clipboard.readText())
    assert.equal(clientId, await page.textContent('#client-id'))
    assert.equal(secret, await page.textContent('#client-secret'))
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/)
    const request = tokenRequest({ clientId, clientSecret: secret, authMethod: 'client_secret_basic', tokenEndpoint: `${server.config.issuer}/oauth/token` })
    assert.equal(await page.textContent('#snippet-curl'), snippet(request, 'curl'))
    assert.deepEqual([await page.isVisible('#snippet-curl'), await page.isVisible('#snippet-python')], [true, false])
    // The language choice (revealed by console.js) shows another generated snippet, and its copy button copies it.
    await page.selectOption('#snippet-language', 'python')
    assert.deepEqual([await page.isVisible('#snippet-curl'), await page.isVisible('#snippet-python')], [false, true])
    assert.equal(await page.textContent('#snippet-python'), snippet(request, 'python'))
    await shot('04b-credentials-python-snippet')
    await page.click('button[data-copy=snippet-python]')
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), snippet(request, 'python'))
  })

  it('gets a token over HTTP with the copied secret, and shows the activity', async () => {
    const answer = await token(clientId, secret)
    assert.equal(answer.status, 200)
    const body = answer.body as Record<string, unknown>
    assert.deepEqual([body.token_type, body.expires_in, body.scope], ['Bearer', 600, 'orders:read orders:write'])
    await page.click('text=Done')
    await page.waitForURL(`${server.url}/console/apps/${clientId}`)
    assert.equal(await page.textContent('#tokens-issued'), '1')
    // One "Get a token": the section's heading, not a second label inside it.
    assert.equal(await page.getByText('Get a token', { exact: true }).count(), 1)
    assert.equal(await page.locator('h2', { hasText: 'Get a token' }).count(), 1)
    assert.equal(await page.locator('#get-a-token .label').count(), 0)
    await shot('05-application')
    await page.goto(`${server.url}/console`)
    assert.equal(await page.textContent('tbody tr td a'), 'Order sync')
    await shot('06-applications')
  })

  it('rotates the secret: the old one is refused, the new one works', async () => {
    await page.goto(`${server.url}/console/apps/${clientId}`)
    await page.click('button:has-text("Rotate secret")')
    await page.waitForSelector('#client-secret')
    await shot('07-rotated-secret')
    await page.click('button[data-copy=client-secret]')
    const rotated = await page.evaluate(() => navigator.clipboard.readText())
    assert.notEqual(rotated, secret)
    assert.equal((await token(clientId, secret)).status, 401)
    assert.equal((await token(clientId, rotated)).status, 200)
    secret = rotated
  })

  it('deletes the application: its secret stops working', async () => {
    await page.goto(`${server.url}/console/apps/${clientId}`)
    await page.click('button:has-text("Delete application")')
    await page.waitForURL(`${server.url}/console?deleted=1`)
    assert.equal(await page.textContent('[role=status]'), 'Application deleted.')
    await shot('08-deleted')
    assert.equal((await token(clientId, secret)).status, 401)
  })

  it('creates an API-key application whose copied key gets tokens at /v2/oauth/request-tokens', async () => {
    await page.goto(`${server.url}/console/apps/new`)
    await page.fill('input[name=name]', 'Nightly export')
    await page.check('input[name=app_type][value=api_key]')
    await page.check('input[name=scope][value="export"]')
    await page.selectOption('select[name=token_format]', 'opaque')
    await page.click('button:has-text("Generate")')
    await page.waitForSelector('#api-key')
    await shot('09-api-key')
    await page.click('button[data-copy=api-key]')
    const apiKey = await page.evaluate(() => navigator.clipboard.readText())
    assert.match(apiKey, /^[0-9A-F]{6}:[A-Za-z0-9+/]{43}=$/)
    const answer = await request(`${server.url}/v2/oauth/request-tokens`, { method: 'POST', headers: { 'csc-api-key': apiKey } })
    assert.equal(answer.status, 200)
    assert.match(String((answer.body as Record<string, unknown>).accessToken), /^sk-[0-9a-f]{32}$/)
  })

  it('refuses a restricted scope on the form, saying which and why', async () => {
    await page.goto(`${server.url}/console/apps/new`)
    await page.fill('input[name=name]', 'Order admin')
    await page.fill('input[name=scopes]', 'orders:admin')
    await page.click('button:has-text("Generate")')
    assert.equal(await page.textContent('[role=alert]'), 'Scope "orders:admin" of Orders API (https://orders.example.com/) is restricted: only an operator can grant it. Choose from the scopes listed on this page, or ask an operator.')
    await shot('03a-restricted-scope-refused')
  })

  it('offers application types in plain words, and refuses a bad redirect URI on the form with the validation message', async () => {
    await page.goto(`${server.url}/console/apps/new`)
    const labels = await page.locator('#app-types label.choice .label').allTextContents()
    assert.deepEqual(labels, ['Server-side web app', 'Single-page app', 'Native app', 'Device or CLI', 'Machine to machine', 'Resource owner password', 'API key'])
    await page.fill('input[name=name]', 'Bad redirect')
    await page.check('input[name=app_type][value=web]')
    assert.equal(await page.isVisible('#redirect-uris-field'), true)
    for (const [uri, message] of [
      ['javascript:alert(1)', 'redirect URI scheme javascript: is not allowed'],
      ['http://evil.example/cb', 'redirect URI http://evil.example/cb must use https (http only on a loopback address, RFC 8252 §7.3)'],
      ['https://a.example/cb#frag', 'redirect URI https://a.example/cb#frag must not have a fragment (RFC 6749 §3.1.2)'],
      ['/cb', 'redirect URI "/cb" is not an absolute URI'],
      ['', 'the authorization_code grant needs at least one redirect URI'],
    ] as const) {
      await page.fill('textarea[name=redirect_uris]', uri)
      await page.click('button:has-text("Generate")')
      await page.waitForSelector('[role=alert]')
      assert.equal(await page.textContent('[role=alert]'), message)
      // The form comes back as it was filled in.
      assert.equal(await page.inputValue('textarea[name=redirect_uris]'), uri)
      assert.equal(await page.isChecked('input[name=app_type][value=web]'), true)
      if (uri === 'javascript:alert(1)') await shot('11-bad-redirect-uri-refused')
    }
    assert.equal((await server.server.gatehouse.clients.list({ limit: 100 })).some((client) => client.name === 'Bad redirect'), false)
  })

  it('creates a single-page app: the Client ID only, no secret (PKCE instead), anyone may sign in through consent', async () => {
    await page.goto(`${server.url}/console/apps/new`)
    await page.fill('input[name=name]', 'Storefront')
    await page.check('input[name=app_type][value=spa]')
    await page.fill('textarea[name=redirect_uris]', 'https://shop.example.com/callback\nhttp://127.0.0.1:5173/callback')
    await page.check('input[name=scope][value=openid]')
    await page.check('input[name=scope][value="orders:read"]')
    await shot('12-create-single-page-app')
    await page.click('button:has-text("Generate")')
    await page.waitForSelector('#client-id')
    await shot('13-single-page-app-created')
    assert.equal(await page.locator('#client-secret').count(), 0)
    assert.match((await page.textContent('#no-secret')) ?? '', /public application: it has no Client Secret.*PKCE/)
    assert.equal(await page.locator('#get-a-token').count(), 0)
    assert.match((await page.textContent('#sign-in')) ?? '', /Authorization code with PKCE \(S256\); no client secret/)
    const spaId = (await page.textContent('#client-id')) ?? ''
    const client = await server.server.gatehouse.clients.get(spaId)
    assert.deepEqual(
      [client?.tokenEndpointAuthMethod, client?.applicationType, client?.grantTypes, client?.redirectUris, client?.allowedUsers, client?.skipConsent, client?.scopes],
      ['none', 'spa', ['authorization_code', 'refresh_token'], ['https://shop.example.com/callback', 'http://127.0.0.1:5173/callback'], null, false, ['openid', 'orders:read', 'offline_access']],
    )
    // It cannot get tokens for itself: a public client has no client_credentials grant.
    const answer = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', client_id: spaId } })
    assert.deepEqual([answer.status, answer.body], [400, { error: 'unauthorized_client', error_description: 'This client may not use the client_credentials grant.' }])
    await page.click('text=Done')
    await page.waitForURL(`${server.url}/console/apps/${spaId}`)
    assert.equal(await page.locator('button:has-text("Rotate")').count(), 0)
    assert.match((await page.textContent('dl.facts')) ?? '', /None: a public application \(PKCE instead\)/)
    await shot('14-single-page-app')
  })

  it('creates a server-side web app: Client ID and Client Secret, and its redirect URI', async () => {
    await page.goto(`${server.url}/console/apps/new`)
    await page.fill('input[name=name]', 'Order portal')
    await page.check('input[name=app_type][value=web]')
    await page.fill('textarea[name=redirect_uris]', 'https://portal.example.com/auth/callback')
    await page.check('input[name=scope][value=openid]')
    await page.check('input[name=scope][value=email]')
    await page.click('button:has-text("Generate")')
    await page.waitForSelector('#client-secret')
    await shot('15-web-app-created')
    assert.match((await page.textContent('[role=alert]')) ?? '', /shown only once/)
    assert.match((await page.textContent('#sign-in')) ?? '', /https:\/\/portal\.example\.com\/auth\/callback/)
    const webId = (await page.textContent('#client-id')) ?? ''
    const client = await server.server.gatehouse.clients.get(webId)
    assert.deepEqual(
      [client?.tokenEndpointAuthMethod, client?.applicationType, client?.grantTypes, client?.redirectUris, client?.allowedUsers, client?.skipConsent],
      ['client_secret_basic', 'web', ['authorization_code', 'refresh_token'], ['https://portal.example.com/auth/callback'], null, false],
    )
    await page.goto(`${server.url}/console`)
    assert.deepEqual(await page.locator('tbody tr td .badge').allTextContents(), ['Server-side web app', 'Single-page app', 'API key'])
    await shot('16-applications-of-each-type')
  })

  it('the create form fits a 390 px phone screen, scope descriptions included', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 } })
    try {
      const small = await phone.newPage()
      await small.goto(`${server.url}/console/login`)
      await small.fill('input[name=username]', 'dev@example.com')
      await small.fill('input[name=password]', 'developer-password')
      await small.click('button[type=submit]')
      await small.waitForURL(`${server.url}/console`)
      await small.goto(`${server.url}/console/apps/new`)
      await small.check('input[name=scope][value="orders:read"]')
      await small.check('input[name=app_type][value=spa]')
      await small.fill('input[name=name]', 'Phone shop')
      await small.fill('textarea[name=redirect_uris]', 'com.example.shop:/callback')
      await small.screenshot({ path: join(SHOTS, '03b-create-application-390px.png'), fullPage: true })
      assert.equal(await small.evaluate(() => document.documentElement.scrollWidth), 390)
      assert.equal(await small.isVisible('text=Read your orders and their status'), true)
      assert.equal(await small.isVisible('text=No secret: it uses PKCE. Needs a redirect URI.'), true)
      await small.click('button:has-text("Generate")')
      await small.waitForSelector('#no-secret')
      await small.screenshot({ path: join(SHOTS, '13b-single-page-app-created-390px.png'), fullPage: true })
      assert.equal(await small.evaluate(() => document.documentElement.scrollWidth), 390)
      await small.click('text=Done')
      await small.waitForSelector('dl.facts')
      await small.screenshot({ path: join(SHOTS, '14b-single-page-app-390px.png'), fullPage: true })
      assert.equal(await small.evaluate(() => document.documentElement.scrollWidth), 390)
      await small.goto(`${server.url}/console`)
      await small.screenshot({ path: join(SHOTS, '16b-applications-390px.png'), fullPage: true })
      assert.equal(await small.evaluate(() => document.documentElement.scrollWidth), 390)
      await small.click('text=API key: Nightly export')
      await small.waitForSelector('#get-a-token')
      await small.screenshot({ path: join(SHOTS, '05b-application-390px.png'), fullPage: true })
      assert.equal(await small.evaluate(() => document.documentElement.scrollWidth), 390)
    } finally {
      await phone.close()
    }
  })

  it('creates a machine-to-machine app with Private key JWT from a pasted public JWK: no secret shown, and the key gets a token', async () => {
    await page.goto(`${server.url}/console/apps/new`)
    await page.check('input[name=app_type][value=web]')
    // The choice is for machine-to-machine apps only (console.js hides it otherwise).
    assert.equal(await page.isVisible('#client-auth-field'), false)
    await page.check('input[name=app_type][value=machine]')
    assert.equal(await page.isVisible('#client-auth-field'), true)
    const key = await clientKey('ES256', 'order-sync-2026')
    await page.fill('input[name=name]', 'Order sync (keys)')
    await page.check('input[name=client_auth][value=private_key_jwt]')
    await page.fill('textarea[name=jwks]', JSON.stringify({ ...key.publicJwk, d: 'oops' }))
    await page.click('button:has-text("Generate")')
    await page.waitForSelector('[role=alert]')
    assert.equal(await page.textContent('[role=alert]'), 'Public key: the key holds private key material ("d"): paste the public key only, and treat this private key as exposed.')
    await shot('17-private-key-refused')
    await page.fill('textarea[name=jwks]', JSON.stringify(key.publicJwk, null, 2))
    await shot('18-create-private-key-jwt-app')
    await page.click('button:has-text("Generate")')
    await page.waitForSelector('#no-secret')
    await shot('19-private-key-jwt-app-created')
    assert.equal(await page.locator('#client-secret').count(), 0)
    assert.match((await page.textContent('#no-secret')) ?? '', /proves itself with its own key \(private key JWT\): it has no Client Secret/)
    const id = (await page.textContent('#client-id')) ?? ''
    const issued = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', ...assertionFields(await signAssertion(key, { clientId: id, audience: server.config.issuer })) } })
    assert.equal(issued.status, 200, issued.text)
    await page.click('text=Done')
    await page.waitForURL(`${server.url}/console/apps/${id}`)
    assert.equal(await page.locator('button:has-text("Rotate")').count(), 0)
    assert.equal(await page.textContent('#public-keys'), 'order-sync-2026')
    await shot('20-private-key-jwt-app')
  })

  it('signs out', async () => {
    await page.goto(`${server.url}/console`)
    await page.click('button:has-text("Sign out")')
    await page.waitForURL(`${server.url}/console/login`)
    await page.goto(`${server.url}/console`)
    assert.equal(new URL(page.url()).pathname, '/console/login')
  })
})
