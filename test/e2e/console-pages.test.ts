import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request } from '../helpers/http.js'
import { Browser as ConsoleBrowser } from '../helpers/console-browser.js'

const CHROMIUM = '/usr/bin/chromium'
const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'console')
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const WIDTHS = [1280, 390] as const

const missing = !existsSync(CHROMIUM)
if (missing && process.env.CI) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`)

/**
 * Whatever spills out of the viewport: elements whose right edge passes it, outside a box that
 * scrolls on its own (.scroll, pre.code), and on a phone any table that would have to scroll
 * at all. Empty when the page fits.
 */
async function spills(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth
    const out: string[] = []
    if (document.documentElement.scrollWidth > width) out.push(`page is ${document.documentElement.scrollWidth}px wide`)
    for (const element of document.querySelectorAll<HTMLElement>('body *')) {
      if (element.closest('.scroll, pre.code') || element.getClientRects().length === 0) continue
      const box = element.getBoundingClientRect()
      if (box.right > width + 0.5) out.push(`${element.tagName.toLowerCase()}${element.id ? '#' + element.id : ''}.${element.className} ends at ${Math.round(box.right)}px`)
    }
    // Below 600 px a table stacks: its box must not need to scroll either.
    if (width < 600) for (const box of document.querySelectorAll<HTMLElement>('.scroll')) if (box.scrollWidth > box.clientWidth + 0.5) out.push(`a table needs ${box.scrollWidth}px in ${box.clientWidth}px`)
    return out.slice(0, 10)
  })
}

describe('every console page at 1280 and 390 px, light and dark', { skip: missing ? `${CHROMIUM} is not installed` : false }, () => {
  let server: TestServer
  let browser: Browser
  const ids: Record<string, string> = {}

  before(async () => {
    mkdirSync(SHOTS, { recursive: true })
    server = await startTestServer({ env: { GATEHOUSE_LOCKOUT: '3/15m' } })
    await server.createUser('pat.long-surname.developer@example-company.com', 'developer-password', 'Pat')
    await server.createUser('carol@example.com', 'carol-password-1')
    await server.server.gatehouse.operators.put('user', 'pat.long-surname.developer@example-company.com', 'admin')
    await server.server.gatehouse.apis.create({
      identifier: 'https://orders.example.com/api/v2/with/a/long/path/',
      name: 'Orders API',
      scopes: [
        { name: 'orders:read', description: 'Read your orders and their status', selfService: true },
        { name: 'orders:write', description: 'Place, change and cancel orders', selfService: true },
      ],
    })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  })
  after(async () => {
    await browser?.close()
    await server?.close()
  })

  /** A signed-in browser context at this width and colour scheme. */
  async function context(width: number, colorScheme: 'light' | 'dark'): Promise<{ context: BrowserContext; page: Page }> {
    const created = await browser.newContext({ viewport: { width, height: width > 600 ? 800 : 844 }, colorScheme })
    await created.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url })
    const page = await created.newPage()
    page.on('dialog', (dialog) => void dialog.accept())
    await page.goto(`${server.url}/console/login`)
    await page.fill('input[name=username]', 'pat.long-surname.developer@example-company.com')
    await page.fill('input[name=password]', 'developer-password')
    await page.click('button[type=submit]')
    await page.waitForURL(`${server.url}/console`)
    return { context: created, page }
  }

  it('creates the applications the pages show, copies the Client ID on the app page, and a reload of the credentials page says it was shown', async () => {
    const { context: created, page } = await context(1280, 'light')
    try {
      await page.goto(`${server.url}/console/apps/new`)
      await page.fill('input[name=name]', 'Order sync for the nightly warehouse export')
      await page.check('input[name=app_type][value=machine]')
      await page.check('input[name=scope][value="orders:read"]')
      await page.locator('input[name=access_token_ttl]').blur()
      await page.click('button:has-text("Generate")')
      await page.waitForSelector('#client-secret')
      ids.machine = (await page.textContent('#client-id')) ?? ''
      const secret = (await page.textContent('#client-secret')) ?? ''
      assert.equal(new URL(page.url()).pathname, `/console/apps/${ids.machine}/credentials`)
      await page.reload()
      assert.equal(await page.textContent('h1'), 'Client Secret shown already')
      await page.screenshot({ path: join(SHOTS, 'shown-already-1280.png'), fullPage: true })
      assert.equal((await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id: ids.machine, secret } })).status, 200)

      await page.goto(`${server.url}/console/apps/${ids.machine}`)
      await page.click('button[data-copy=client-id]')
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), ids.machine)
      assert.equal(await page.textContent('#tokens-issued'), '1')
      assert.equal(await page.textContent('#tokens-by-grant'), 'client credentials1')

      await page.click('a:has-text("Edit")')
      await page.fill('input[name=name]', 'Order sync')
      await page.check('input[name=scope][value="orders:write"]')
      await page.fill('input[name=access_token_ttl]', '99999999')
      await page.locator('input[name=access_token_ttl]').blur()
      // The browser's own check (max) stops it first; without it the server says the same.
      await page.evaluate(() => document.querySelector('form[action$="/edit"]')?.setAttribute('novalidate', ''))
      await page.click('button:has-text("Save changes")')
      await page.waitForSelector('[role=alert]')
      assert.match((await page.textContent('[role=alert]')) ?? '', /^Token lifetime must be a whole number of seconds from 1 to \d+\.$/)
      await page.fill('input[name=access_token_ttl]', '300')
      await page.click('button:has-text("Save changes")')
      await page.waitForURL(`${server.url}/console/apps/${ids.machine}?updated=1`)
      assert.equal(await page.textContent('[role=status]'), 'Changes saved.')

      await page.goto(`${server.url}/console/apps/new`)
      await page.fill('input[name=name]', 'Shop')
      await page.check('input[name=app_type][value=spa]')
      await page.fill('textarea[name=redirect_uris]', 'https://shop.example.com/a/very/long/callback/path/that/goes/on')
      await page.click('button:has-text("Generate")')
      await page.waitForSelector('#no-secret')
      ids.spa = (await page.textContent('#client-id')) ?? ''
    } finally {
      await created.close()
    }
    // A failed sign-in and a lockout, for the audit log and the users page.
    const guesser = new ConsoleBrowser(server.url)
    for (let i = 0; i < 3; i++) assert.equal((await guesser.signIn('carol@example.com', `guess-${i}`)).status, 401)
    await server.server.gatehouse.audit.flush()
  })

  for (const width of WIDTHS) {
    for (const scheme of ['light', 'dark'] as const) {
      it(`fits every page in ${width} px (${scheme}), with screenshots`, async () => {
        const pages: [string, string][] = [
          ['applications', '/console'],
          ['create-application', '/console/apps/new'],
          ['application', `/console/apps/${ids.machine}`],
          ['edit-application', `/console/apps/${ids.machine}/edit`],
          ['single-page-app', `/console/apps/${ids.spa}`],
          ['single-page-app-credentials', `/console/apps/${ids.spa}/credentials`],
          ['shown-already', `/console/apps/${ids.machine}/credentials`],
          ['connected-apps', '/console/connected'],
          ['not-found', '/console/apps/no-such-app'],
          ['operator-applications', '/console/operator/clients'],
          ['operator-users', '/console/operator/users'],
          ['operator-api-keys', '/console/operator/api-keys'],
          ['operator-signing-keys', '/console/operator/signing-keys'],
          ['operator-audit', '/console/operator/audit'],
          ['operator-audit-filtered', '/console/operator/audit?action=user.authentication_failed&user=carol%40example.com'],
        ]
        const { context: created, page } = await context(width, scheme)
        try {
          const suffix = `${width}${scheme === 'dark' ? '-dark' : ''}`
          const check = async (name: string): Promise<void> => {
            await page.screenshot({ path: join(SHOTS, `page-${name}-${suffix}.png`), fullPage: true })
            assert.deepEqual(await spills(page), [], `${name} at ${width} px`)
          }
          for (const [name, path] of pages) {
            await page.goto(`${server.url}${path}`)
            await check(name)
          }
          // The colour scheme the system asks for (prefers-color-scheme).
          const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)
          assert.equal(background, scheme === 'dark' ? 'rgb(17, 21, 29)' : 'rgb(246, 247, 251)')
          const signOut = page.locator('button:has-text("Sign out")')
          await signOut.click()
          await page.waitForURL(`${server.url}/console/login`)
          await check('sign-in')
        } finally {
          await created.close()
        }
      })
    }
  }
})
