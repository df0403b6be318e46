import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startTestServer, type TestServer } from '../helpers/server.js'

describe('pages a person opens: the landing page, the icon, and errors as pages', () => {
  let server: TestServer
  before(async () => {
    // A tight per-address limit, as an operator may set: the pages must answer it with a page.
    server = await startTestServer({ env: { GATEHOUSE_RATE_LIMIT_IP: '4/1m' } })
  })
  after(() => server.close())

  it('answers / with a landing page that links the console, the reference and the discovery document', async () => {
    const answer = await fetch(`${server.url}/`)
    assert.equal(answer.status, 200)
    assert.equal(answer.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.match(answer.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/)
    const text = await answer.text()
    for (const link of ['/console', '/docs', '/.well-known/openid-configuration', '/.well-known/jwks.json']) assert.match(text, new RegExp(`href="${link.replace(/\./g, '\\.')}"`))
    assert.match(text, /<link rel="icon" href="\/assets\/favicon\.svg"/)
  })

  it('serves the icon at /favicon.ico and /assets/favicon.svg', async () => {
    for (const path of ['/favicon.ico', '/assets/favicon.svg']) {
      const answer = await fetch(`${server.url}${path}`)
      assert.equal(answer.status, 200, path)
      assert.equal(answer.headers.get('content-type'), 'image/svg+xml')
      assert.match(await answer.text(), /^<svg /)
    }
  })

  it('answers a rate-limited console or sign-in page with a 429 page and Retry-After, never a 500', async () => {
    const statuses: number[] = []
    let limited: Response | undefined
    for (let i = 0; i < 8 && !limited; i++) {
      const answer = await fetch(`${server.url}${i % 2 === 0 ? '/console/login' : '/oauth/authorize?client_id=x'}`, { redirect: 'manual' })
      statuses.push(answer.status)
      if (answer.status === 429) limited = answer
      else await answer.text()
    }
    assert.ok(limited, `statuses ${statuses.join(',')}`)
    assert.ok(!statuses.includes(500))
    assert.match(limited.headers.get('retry-after') ?? '', /^\d+$/)
    assert.equal(limited.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.match(await limited.text(), /Too many requests came from your network/)
    const hosted = await fetch(`${server.url}/oauth/authorize?client_id=x`, { redirect: 'manual' })
    assert.equal(hosted.status, 429)
    assert.match(await hosted.text(), /Too many requests/)
  })
})
