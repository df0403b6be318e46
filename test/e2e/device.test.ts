import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { ManualClock } from '../../src/core/clock.js'
import { DEVICE_CODE_GRANT } from '../../src/core/types.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request } from '../helpers/http.js'

const CHROMIUM = '/usr/bin/chromium'
const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'hosted')
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const PASSWORD = 'correct horse battery'

// In CI a missing browser is a failure, not a skip (.ci/run installs it).
const missing = !existsSync(CHROMIUM)
if (missing && process.env.CI) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`)

/**
 * The device verification pages (RFC 8628 §3.3) in headless Chromium, at a laptop's and a
 * phone's width: type the code the device shows, sign in, allow, and the device's next poll gets
 * its tokens. Screenshots of each page go to test-results/hosted/.
 */
describe('device sign-in pages in headless Chromium', { skip: missing ? `${CHROMIUM} is not installed` : false }, () => {
  let server: TestServer
  let clock: ManualClock
  let browser: Browser
  let clientId: string

  before(async () => {
    mkdirSync(SHOTS, { recursive: true })
    clock = new ManualClock(Date.now())
    server = await startTestServer({ clock })
    await server.createUser('ann@example.com', PASSWORD, 'Ann')
    await server.server.gatehouse.apis.create({ identifier: 'https://photos.example.com/', name: 'Photos', scopes: [{ name: 'photos:read', description: 'See your photo albums' }] })
    const { client } = await server.server.gatehouse.clients.create({ name: 'Living Room TV', tokenEndpointAuthMethod: 'none', grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'], scopes: ['openid', 'profile', 'email', 'photos:read'] })
    clientId = client.id
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  })
  after(async () => {
    await browser?.close()
    await server?.close()
  })

  const startDevice = async (): Promise<{ device_code: string; user_code: string; verification_uri: string }> => {
    const answer = await request(`${server.url}/oauth/device_authorization`, { form: { client_id: clientId, scope: 'openid profile photos:read' } })
    assert.equal(answer.status, 200, answer.text)
    return answer.body as { device_code: string; user_code: string; verification_uri: string }
  }
  const poll = (deviceCode: string) => request(`${server.url}/oauth/token`, { form: { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: clientId } })

  /** The page fits the viewport: nothing wider than the screen. */
  const fits = async (page: Page, width: number): Promise<void> => assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), width)

  for (const width of [1280, 390]) {
    it(`types the code, signs in and allows at ${width} px; the device then gets its tokens`, async () => {
      const context = await browser.newContext({ viewport: { width, height: width > 500 ? 800 : 844 } })
      try {
        const page = await context.newPage()
        const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(SHOTS, `device-${name}-${width}px.png`), fullPage: true })
        const device = await startDevice()
        await page.goto(device.verification_uri)
        // As a person types it: lower case, no dash.
        await page.getByLabel('Code').fill(device.user_code.replace('-', '').toLowerCase())
        await fits(page, width)
        await shot('01-code-entry')
        await page.getByRole('button', { name: 'Continue' }).click()

        await page.waitForSelector('form[action="/device/signin"]')
        assert.equal(await page.textContent('.user-code'), device.user_code)
        await page.getByLabel('Email').fill('ann@example.com')
        await page.getByLabel('Password').fill(PASSWORD)
        await fits(page, width)
        await shot('02-sign-in')
        await page.getByRole('button', { name: 'Sign in' }).click()

        await page.waitForSelector('form[action="/device/decision"]')
        assert.match((await page.textContent('h1')) ?? '', /Living Room TV wants to use your account/)
        assert.equal(await page.isVisible('text=See your photo albums'), true)
        assert.equal(await page.textContent('.user-code'), device.user_code)
        await fits(page, width)
        await shot('03-allow')
        assert.equal((await poll(device.device_code)).status, 400, 'still pending')
        await page.getByRole('button', { name: 'Allow' }).click()

        await page.waitForURL(`${server.url}/device/done?result=approved`)
        assert.equal(await page.textContent('h1'), 'Device connected')
        assert.match((await page.textContent('[role=status]')) ?? '', /You can return to your device/)
        await fits(page, width)
        await shot('04-done')

        clock.advance(5_000)
        const tokens = await poll(device.device_code)
        assert.equal(tokens.status, 200, tokens.text)
        assert.ok((tokens.body as { id_token?: string }).id_token)
      } finally {
        await context.close()
      }
    })
  }

  it('a wrong code is said so on the page, and Deny tells the device access_denied', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } })
    try {
      const page = await context.newPage()
      const device = await startDevice()
      await page.goto(`${server.url}/device`)
      await page.getByLabel('Code').fill('BCDF-GHJK')
      await page.getByRole('button', { name: 'Continue' }).click()
      assert.equal(await page.textContent('[role=alert]'), 'That code is not valid. Check it and try again.')
      await page.screenshot({ path: join(SHOTS, 'device-05-wrong-code-390px.png'), fullPage: true })
      await page.goto(`${server.url}/device?user_code=${device.user_code}`)
      assert.equal(await page.getByLabel('Code').inputValue(), device.user_code)
      await page.getByRole('button', { name: 'Continue' }).click()
      await page.getByLabel('Email').fill('ann@example.com')
      await page.getByLabel('Password').fill(PASSWORD)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('button', { name: 'Deny' }).click()
      await page.waitForURL(`${server.url}/device/done?result=denied`)
      await page.screenshot({ path: join(SHOTS, 'device-06-denied-390px.png'), fullPage: true })
      clock.advance(5_000)
      const answer = await poll(device.device_code)
      assert.equal((answer.body as { error: string }).error, 'access_denied')
    } finally {
      await context.close()
    }
  })
})
