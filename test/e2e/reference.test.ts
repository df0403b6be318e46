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
})
