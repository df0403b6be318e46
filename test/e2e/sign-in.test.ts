import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import * as oidc from 'openid-client'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { createServer, type Server } from 'node:http'
import { freePort, startTestServer, type TestServer } from '../helpers/server.js'
import { DEVICE_CODE_GRANT } from '../../src/core/types.js'

const CHROMIUM = '/usr/bin/chromium'
const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'hosted')
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

// In CI a missing browser is a failure, not a skip (.ci/run installs it).
const missing = !existsSync(CHROMIUM)
if (missing && process.env.CI) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`)

/**
 * A person signs in to two applications through the hosted pages in headless Chromium, while
 * openid-client plays the applications: authorization code + PKCE + state + nonce, ID token
 * verified, single sign-on for the second application, RP-initiated logout.
 */
describe('hosted sign-in in headless Chromium with openid-client', { skip: missing ? `${CHROMIUM} is not installed` : false }, () => {
  let server: TestServer
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let web: { id: string; secret: string }
  let spaId: string
  let deviceId: string
  /** The web app's refresh token from the first test: "Connected apps" must end it. */
  let webRefreshToken = ''
  /** The applications' own server: a real port that answers their callback and signed-out pages. */
  let app: Server
  let APP = ''
  let REDIRECT = ''

  const shot = async (name: string): Promise<void> => {
    await page.screenshot({ path: join(SHOTS, `${name}-1280.png`), fullPage: true })
    await page.setViewportSize({ width: 390, height: 844 })
    await page.screenshot({ path: join(SHOTS, `${name}-390.png`), fullPage: true })
    await page.setViewportSize({ width: 1280, height: 800 })
  }
  const configFor = (clientId: string, secret?: string) =>
    oidc.discovery(new URL(server.url), clientId, { id_token_signed_response_alg: 'ES256' }, secret === undefined ? oidc.None() : oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] })

  async function authorizationUrl(config: oidc.Configuration) {
    const verifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    const nonce = oidc.randomNonce()
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid profile email orders:read offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce })
    return { url, checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true } }
  }

  before(async () => {
    mkdirSync(SHOTS, { recursive: true })
    const port = await freePort()
    APP = `http://127.0.0.1:${port}`
    REDIRECT = `${APP}/callback`
    app = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<p>back at the application</p>'))
    await new Promise<void>((resolve) => app.listen(port, '127.0.0.1', resolve))
    server = await startTestServer()
    await server.createUser('ann@example.com', 'correct horse battery', 'Ann Example')
    await server.server.gatehouse.apis.create({ identifier: 'https://orders.example.com/', name: 'Orders API', scopes: [{ name: 'orders:read', description: 'Read your orders and their status' }] })
    const scopes = ['openid', 'profile', 'email', 'offline_access', 'orders:read']
    web = await server.createClient({ name: 'Acme Dashboard', grantTypes: ['authorization_code', 'refresh_token'], scopes, redirectUris: [REDIRECT], postLogoutRedirectUris: [`${APP}/signed-out`] })
    deviceId = (await server.server.gatehouse.clients.create({ name: 'Acme TV', tokenEndpointAuthMethod: 'none', grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'], scopes })).client.id
    spaId = (await server.server.gatehouse.clients.create({ name: 'Acme Mobile', tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code', 'refresh_token'], scopes, redirectUris: [REDIRECT] })).client.id
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    page = await context.newPage()
  })
  after(async () => {
    await browser?.close()
    await server?.close()
    app?.close()
  })

  it('signs in to a server-side web app: wrong password, then the right one, consent, code, tokens', async () => {
    const config = await configFor(web.id, web.secret)
    const { url, checks } = await authorizationUrl(config)
    await page.goto(url.href)
    assert.equal(new URL(page.url()).pathname, '/oauth/authorize')
    assert.equal(await page.textContent('h1'), 'Sign in')
    await shot('01-sign-in')
    await page.fill('input[name=username]', 'ann@example.com')
    await page.fill('input[name=password]', 'not my password')
    await page.click('button[type=submit]')
    assert.equal(await page.textContent('[role=alert]'), 'Invalid email or password.')
    await shot('02-sign-in-error')
    await page.fill('input[name=password]', 'correct horse battery')
    await page.click('button[type=submit]')
    assert.match((await page.textContent('h1')) ?? '', /Acme Dashboard wants to use your account/)
    assert.match((await page.textContent('ul.scopes')) ?? '', /Read your orders and their status/)
    await shot('03-consent')
    await page.click('button[value=allow]')
    await page.waitForURL(`${REDIRECT}?**`)
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), checks)
    assert.equal(tokens.claims()?.email, 'ann@example.com')
    assert.ok(tokens.refresh_token)
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token)
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token)
    webRefreshToken = refreshed.refresh_token ?? ''
  })

  it('single sign-on: a public client (PKCE, no secret) needs no password, only its own consent', async () => {
    const config = await configFor(spaId)
    const { url, checks } = await authorizationUrl(config)
    await page.goto(url.href)
    assert.match((await page.textContent('h1')) ?? '', /Acme Mobile wants to use your account/)
    await page.click('button[value=allow]')
    await page.waitForURL(`${REDIRECT}?**`)
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), checks)
    assert.equal(tokens.claims()?.aud, spaId)
  })

  it('RP-initiated logout: back to the registered URI, and the next sign-in asks for the password', async () => {
    const config = await configFor(web.id, web.secret)
    const first = await authorizationUrl(config)
    await page.goto(first.url.href)
    await page.waitForURL(`${REDIRECT}?**`)
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), first.checks).catch((error: unknown) => { console.error(server.logs.lines.slice(-8).join('\n')); throw error })
    await page.goto(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: `${APP}/signed-out`, state: 'bye' }).href)
    assert.equal(page.url(), `${APP}/signed-out?state=bye`)
    const next = await authorizationUrl(config)
    await page.goto(next.url.href)
    assert.equal(await page.textContent('h1'), 'Sign in')
  })

  it('"Connected apps" in the console: removing access ends the app\'s tokens; "Sign out everywhere" ends the sign-in', async () => {
    // The first test's grant is still live (the logout test ended the session, not the grant).
    const config = await configFor(web.id, web.secret)
    await page.goto(`${server.url}/console/login`)
    await page.fill('input[name=username]', 'ann@example.com')
    await page.fill('input[name=password]', 'correct horse battery')
    await page.click('button[type=submit]')
    await page.click('a[href="/console/connected"]')
    assert.equal(await page.textContent('h1'), 'Connected apps')
    const table = (await page.textContent('main')) ?? ''
    assert.match(table, /Acme Mobile/)
    assert.match(table, /Acme Dashboard[\s\S]*Read your orders and their status/)
    await shot('05-connected-apps')
    await page.click('button[aria-label="Remove access for Acme Dashboard"]')
    assert.match((await page.textContent('[role=status]')) ?? '', /Access removed/)
    assert.doesNotMatch((await page.textContent('main')) ?? '', /Acme Dashboard/)
    await assert.rejects(oidc.refreshTokenGrant(config, webRefreshToken), (error: unknown) => error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant')
    // The console sign-in signed the browser in to the hosted pages too (single sign-on): the app asks consent again, not a password.
    const again = await authorizationUrl(config)
    await page.goto(again.url.href)
    assert.match((await page.textContent('h1')) ?? '', /Acme Dashboard wants to use your account/)
    await page.goto(`${server.url}/console/connected`)
    await page.click('text=Sign out everywhere >> nth=1')
    assert.equal(new URL(page.url()).pathname, '/console/login')
    await page.goto(again.url.href)
    assert.equal(await page.textContent('h1'), 'Sign in', 'every sign-in session ended')
  })

  it('device authorization grant with openid-client: the code typed into /device in Chromium', async () => {
    const config = await configFor(deviceId)
    const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid email orders:read' })
    assert.match(started.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/)
    const polled = oidc.pollDeviceAuthorizationGrant(config, started)
    await page.goto(started.verification_uri)
    await page.getByLabel('Code').fill(started.user_code)
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.waitForSelector('form[action="/device/signin"]')
    await page.getByLabel('Email').fill('ann@example.com')
    await page.getByLabel('Password').fill('correct horse battery')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForSelector('form[action="/device/decision"]')
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.waitForURL(`${server.url}/device/done?result=approved`)
    const tokens = await polled
    assert.equal(tokens.claims()?.email, 'ann@example.com')
    assert.equal(tokens.claims()?.aud, deviceId)
  })

  it('the landing page, and the sign-in and consent pages in the dark colour scheme', async () => {
    const dark = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' })
    try {
      const darkPage = await dark.newPage()
      await darkPage.goto(`${server.url}/`)
      assert.equal(await darkPage.textContent('h1'), 'Gatehouse')
      const background = await darkPage.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)
      assert.equal(background, 'rgb(17, 21, 29)', 'dark paper')
      for (const width of [1280, 390]) {
        await darkPage.setViewportSize({ width, height: width > 500 ? 800 : 844 })
        await darkPage.goto(`${server.url}/`)
        await darkPage.screenshot({ path: join(SHOTS, `06-landing-dark-${width}.png`), fullPage: true })
        const { url } = await authorizationUrl(await configFor(web.id, web.secret))
        await darkPage.goto(url.href)
        await darkPage.fill('input[name=username]', 'ann@example.com')
        await darkPage.fill('input[name=password]', 'wrong')
        await darkPage.click('button[type=submit]')
        await darkPage.screenshot({ path: join(SHOTS, `07-sign-in-dark-${width}.png`), fullPage: true })
      }
    } finally {
      await dark.close()
    }
  })

  it('shows an error page, not a redirect, for an unregistered redirect URI', async () => {
    await page.goto(`${server.url}/oauth/authorize?client_id=${web.id}&redirect_uri=${encodeURIComponent('https://evil.example/')}&response_type=code`)
    assert.equal(new URL(page.url()).host, new URL(server.url).host)
    assert.equal(await page.textContent('h1'), 'This sign-in link is not valid')
    await shot('04-error')
  })
})
