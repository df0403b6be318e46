import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { createOperatorToken } from '../../src/core/admin/operator-token.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { jwtPayload, request } from '../helpers/http.js'

const CHROMIUM = '/usr/bin/chromium'
const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'reference')
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

// In CI a missing browser is a failure, not a skip (.ci/run installs it).
const missing = !existsSync(CHROMIUM)
if (missing && process.env.CI) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`)

/** Every dialect's token endpoint, where Scalar puts it (its tag's slug, the method, the path). */
const TOKEN_ENDPOINTS = [
  { tag: 'standard-rfc-6749', path: '/oauth/token', summary: 'Token endpoint' },
  { tag: 'identityserver-style', path: '/connect/token', summary: 'Token endpoint, IdentityServer conventions' },
  { tag: 'canary-api-keys', path: '/v2/oauth/request-tokens', summary: 'Exchange an API key for tokens (v2)' },
  { tag: 'canary-api-keys', path: '/v2/oauth/refresh-tokens', summary: 'Refresh tokens (v2)' },
  { tag: 'canary-api-keys', path: '/v3/auth/tokens/get', summary: 'Exchange an API key for tokens (v3), optionally logging a user in' },
  { tag: 'canary-api-keys', path: '/v3/auth/tokens/refresh', summary: 'Refresh tokens (v3)' },
  { tag: 'wrapped', path: '/v1/auth/token', summary: 'Token endpoint with a wrapped answer' },
]

type Samples = { lang: string; label: string; source: string }[]

describe('API reference (Scalar) in headless Chromium', { skip: missing ? `${CHROMIUM} is not installed` : false }, () => {
  let server: TestServer
  let browser: Browser
  let page: Page
  let document: { paths: Record<string, Record<string, { 'x-codeSamples': Samples }>> }
  const problems: string[] = []

  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(SHOTS, `${name}.png`) })
  const section = (tag: string, path: string, method = 'POST') => page.locator(`[id="api-1/tag/${tag}/${method}${path}"]`)
  const open = async (tag: string, path: string, method = 'POST') => {
    // A new page load each time: a hash change alone would leave an open "try it" dialog in front.
    await page.goto('about:blank')
    await page.goto(`${server.url}/docs#tag/${tag}/${method}${path}`)
    await section(tag, path, method).waitFor()
  }

  before(async () => {
    mkdirSync(SHOTS, { recursive: true })
    server = await startTestServer()
    document = (await request(`${server.url}/openapi.json`)).body as typeof document
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    // Anything the page's CSP refuses, any script error, any request to another origin is a defect.
    await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (event) => console.log(`CSP violation: ${event.effectiveDirective} ${event.blockedURI}`)))
    page.on('console', (message) => {
      // Scalar probes eval() once and works without it; script-src refuses it, as meant.
      if (message.text().startsWith('CSP violation') && !message.text().startsWith('CSP violation: script-src eval')) problems.push(message.text())
    })
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
    page.on('request', (outgoing) => {
      if (!outgoing.url().startsWith(server.url) && !outgoing.url().startsWith('data:')) problems.push(`request to another origin: ${outgoing.url()}`)
    })
  })
  after(async () => {
    await browser?.close()
    await server?.close()
  })

  it('renders every dialect\'s token endpoint with its generated curl snippet', async () => {
    for (const endpoint of TOKEN_ENDPOINTS) {
      await open(endpoint.tag, endpoint.path)
      const operation = section(endpoint.tag, endpoint.path)
      assert.equal(await operation.locator('h3, h2').first().innerText(), endpoint.summary)
      const curl = document.paths[endpoint.path]?.post?.['x-codeSamples'][0]?.source ?? ''
      await operation.locator('pre', { hasText: '--request POST' }).first().waitFor()
      assert.equal((await operation.locator('pre', { hasText: '--request POST' }).first().innerText()).trimEnd(), curl)
    }
    await open('identityserver-style', '/connect/token')
    await shot('01-token-endpoint-1280')
    assert.deepEqual(problems, [])
  })

  it('switches the language and shows the generated snippet', async () => {
    await open('identityserver-style', '/connect/token')
    const operation = section('identityserver-style', '/connect/token')
    const samples = document.paths['/connect/token']?.post?.['x-codeSamples'] ?? []
    assert.equal(samples.length, 10)
    for (const sample of samples.filter((entry) => ['python', 'node', 'go'].includes(entry.lang))) {
      await operation.locator('button[aria-label^="Change code sample language"]').click()
      await page.getByRole('option', { name: sample.label, exact: true }).click()
            assert.equal(await operation.locator('button[aria-label^="Change code sample language"]').innerText(), sample.label)
      assert.equal((await operation.locator('pre').first().innerText()).trimEnd(), sample.source)
    }
    await operation.locator('button[aria-label^="Change code sample language"]').click()
    await page.getByRole('option', { name: 'Python (requests)', exact: true }).waitFor()
    assert.deepEqual(await page.getByRole('option').allInnerTexts(), samples.map((sample) => sample.label))
    await shot('02-language-switcher-1280')
    await page.keyboard.press('Escape')
  })

  it('gets a token through "try it" with a pasted client id and secret (client_secret_basic)', async () => {
    const client = await server.createClient({ grantTypes: ['client_credentials'], scopes: ['api'] })
    await open('standard-rfc-6749', '/oauth/token')
    await section('standard-rfc-6749', '/oauth/token').locator('button:has-text("Test Request")').click()
    const dialog = page.getByRole('dialog')
    // The example sends client_secret_post placeholders: leave them out and authenticate with Basic instead (RFC 6749 §2.3.1).
    await dialog.getByLabel('Include client_id in request').uncheck()
    await dialog.getByLabel('Include client_secret in request').uncheck()
    // Authentication is optional here (client_secret_post, private_key_jwt and public clients need none): pick HTTP Basic.
    await dialog.getByRole('button', { name: 'Authentication Optional' }).click()
    await dialog.getByText('Select Auth Type').click()
    await page.getByRole('option', { name: /clientBasic/ }).first().click()
    await dialog.getByText('Selected Auth Type: clientBasic').waitFor()
    // Scalar's username field is an editable div (role combobox, labelled Username); the password an input.
    await dialog.getByRole('combobox', { name: 'Username' }).fill(client.id)
    await dialog.locator('input[placeholder="********"]').fill(client.secret)
    await shot('03-try-it-credentials-1280')
    await dialog.locator('button:has-text("Send")').first().click()
    await dialog.getByText('"access_token"').first().waitFor()
    await shot('04-try-it-token-1280')
    const text = await dialog.innerText()
    assert.match(text, /200\s*OK/)
    const token = /"access_token":\s*"([\w.-]+)"/.exec(text)?.[1] ?? ''
    assert.deepEqual([jwtPayload(token).client_id, jwtPayload(token).scope], [client.id, 'api'])
    assert.deepEqual(problems, [])
  })

  it('tries a management call with a pasted operator bearer token', async () => {
    const g = server.server.gatehouse
    const admin = await createOperatorToken({ store: g.store, clients: g.clients, operators: g.operators, tokens: g.tokens, audit: g.audit, maxAccessTokenTtl: g.config.maxAccessTokenTtl })
    await open('signing-keys', '/admin/v1/signing-keys', 'GET')
    await section('signing-keys', '/admin/v1/signing-keys', 'GET').locator('button:has-text("Test Request")').click()
    const dialog = page.getByRole('dialog')
    // The management API requires bearerAuth, its only scheme: Scalar selects it once the section is open.
    await dialog.getByRole('button', { name: /^Authentication Required/ }).click()
    await dialog.getByText('Selected Auth Type: bearerAuth').filter({ visible: true }).waitFor()
    await dialog.locator('input[placeholder="Token"]').fill(admin.accessToken)
    await dialog.locator('button:has-text("Send")').first().click()
    await dialog.getByText('"keys"').first().waitFor()
    assert.match(await dialog.innerText(), /200\s*OK/)
    await shot('05-try-it-bearer-1280')
    assert.deepEqual(problems, [])
  })

  it('is usable 390 px wide: no sideways scrolling, the token endpoint and its snippet readable', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    await open('identityserver-style', '/connect/token')
    const operation = section('identityserver-style', '/connect/token')
    const wide = await page.evaluate(() => [...document.querySelectorAll('body *')].filter((node) => node.getBoundingClientRect().right > 391).slice(0, 8).map((node) => `${node.tagName}.${node.className} ${Math.round(node.getBoundingClientRect().right)}`))
    // Code blocks scroll inside their own box; the page itself must not.
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390, wide.join('\n'))
    const heading = await operation.locator('h3, h2').first().boundingBox()
    assert.ok(heading && heading.x >= 0 && heading.x + heading.width <= 390, JSON.stringify(heading))
    // Scalar remembers the language chosen earlier in this browser (the switcher test leaves Go): ask for curl.
    await operation.locator('button[aria-label^="Change code sample language"]').click()
    await page.getByRole('option', { name: 'curl', exact: true }).click()
    await operation.locator('pre', { hasText: '--request POST' }).first().scrollIntoViewIfNeeded()
    // The snippet's box (the pre scrolls inside it) lies within the screen and takes most of its width.
    const code = await operation.locator('pre', { hasText: '--request POST' }).first().evaluate((pre) => {
      let box: Element | null = pre.parentElement
      while (box && !['auto', 'scroll', 'hidden'].includes(getComputedStyle(box).overflowX)) box = box.parentElement
      const rect = (box ?? pre).getBoundingClientRect()
      return { x: rect.x, width: rect.width }
    })
    assert.ok(code.x >= 0 && code.width >= 300 && code.x + code.width <= 390, JSON.stringify(code))
    await page.screenshot({ path: join(SHOTS, '06-token-endpoint-390.png') })
    await page.goto(`${server.url}/docs`)
    await page.getByText('Gatehouse', { exact: true }).first().waitFor()
    await page.screenshot({ path: join(SHOTS, '07-introduction-390.png') })
    assert.deepEqual(problems, [])
  })
})
