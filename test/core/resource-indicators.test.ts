import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { CookieBrowser, inputValue } from '../helpers/browser-session.js'
import { jwtPayload, request, type HttpAnswer } from '../helpers/http.js'
import { calculateJwkThumbprint } from 'jose'
import { dpopKey } from '../helpers/dpop.js'

/**
 * RFC 8707 resource indicators: `resource` (repeatable) at the token and authorization
 * endpoints, checked against the client's allowed resources; one resource per access token; a
 * grant keeps its resources and a refresh may only choose among them.
 */

const ORDERS = 'https://orders.example.com/'
const BILLING = 'https://billing.example.com/'
const REDIRECT = 'http://127.0.0.1:7777/callback'
const PASSWORD = 'resource-password-1'

const body = (answer: HttpAnswer): Record<string, unknown> => answer.body as Record<string, unknown>
const errorOf = (answer: HttpAnswer) => ({ status: answer.status, error: body(answer).error, cache: answer.headers.get('cache-control') })
const audOf = (answer: HttpAnswer): unknown => jwtPayload(String(body(answer).access_token)).aud

describe('resource indicators (RFC 8707)', () => {
  let server: TestServer
  let machine: { id: string; secret: string }
  let person: { id: string; secret: string }
  let web: { id: string; secret: string }

  const token = (client: { id: string; secret: string }, form: URLSearchParams | Record<string, string>) =>
    request(`${server.url}/oauth/token`, { form: form instanceof URLSearchParams ? form.toString() : form, basic: client })

  before(async () => {
    server = await startTestServer()
    await server.server.gatehouse.apis.create({ identifier: 'https://reports.example.com', name: 'Reports', scopes: [{ name: 'reports:read', description: 'Read reports' }] })
    machine = await server.createClient({ grantTypes: ['client_credentials'], scopes: ['api', 'reports:read'], audience: 'https://default.example.com', resources: [ORDERS, BILLING] })
    person = await server.createClient({ grantTypes: ['password', 'refresh_token'], scopes: ['api'], resources: [ORDERS, BILLING] })
    web = await server.createClient({ grantTypes: ['authorization_code', 'refresh_token'], scopes: ['openid', 'api'], redirectUris: [REDIRECT], skipConsent: true, resources: [ORDERS, BILLING] })
    await server.createUser('rita@example.com', PASSWORD)
  })
  after(() => server.close())

  it('gives a token for an allowed resource, and the client audience without one', async () => {
    const plain = await token(machine, { grant_type: 'client_credentials', scope: 'api' })
    assert.deepEqual([plain.status, audOf(plain)], [200, 'https://default.example.com'])
    const orders = await token(machine, { grant_type: 'client_credentials', scope: 'api', resource: ORDERS })
    assert.deepEqual([orders.status, audOf(orders), body(orders).scope], [200, ORDERS, 'api'])
    // A registered API of which it holds a scope is allowed as before, and narrows the scopes.
    const reports = await token(machine, { grant_type: 'client_credentials', resource: 'https://reports.example.com' })
    assert.deepEqual([reports.status, audOf(reports), body(reports).scope], [200, 'https://reports.example.com', 'reports:read'])
  })

  it('accepts the same resource repeated, and resource with the same audience, in a form and in JSON', async () => {
    const form = new URLSearchParams([['grant_type', 'client_credentials'], ['resource', BILLING], ['resource', BILLING], ['audience', BILLING]])
    const repeated = await token(machine, form)
    assert.deepEqual([repeated.status, audOf(repeated)], [200, BILLING])
    const json = await request(`${server.url}/oauth/token`, { json: { grant_type: 'client_credentials', resource: [BILLING] }, basic: machine })
    assert.deepEqual([json.status, audOf(json)], [200, BILLING])
  })

  it('refuses two different resources in one token request: one access token serves one resource', async () => {
    const form = new URLSearchParams([['grant_type', 'client_credentials'], ['resource', ORDERS], ['resource', BILLING]])
    assert.deepEqual(errorOf(await token(machine, form)), { status: 400, error: 'invalid_target', cache: 'no-store' })
    assert.deepEqual(errorOf(await token(machine, { grant_type: 'client_credentials', resource: ORDERS, audience: BILLING })), { status: 400, error: 'invalid_target', cache: 'no-store' })
  })

  it('answers invalid_target for a resource not allowed, not absolute, with a fragment or a space', async () => {
    for (const resource of ['https://elsewhere.example.com/', 'orders', '/relative/path', `${ORDERS}#part`, 'https://a.example.com/ https://b.example.com/']) {
      const answer = await token(machine, { grant_type: 'client_credentials', resource })
      assert.deepEqual(errorOf(answer), { status: 400, error: 'invalid_target', cache: 'no-store' }, resource)
    }
    // A non-string in JSON is malformed, not a target.
    const json = await request(`${server.url}/oauth/token`, { json: { grant_type: 'client_credentials', resource: [ORDERS, 7] }, basic: machine })
    assert.deepEqual(errorOf(json), { status: 400, error: 'invalid_request', cache: 'no-store' })
  })

  it('keeps a password grant to its resource: a refresh may name it again, not another', async () => {
    const first = await token(person, { grant_type: 'password', username: 'rita@example.com', password: PASSWORD, resource: ORDERS })
    assert.deepEqual([first.status, audOf(first)], [200, ORDERS])
    const refresh = String(body(first).refresh_token)
    const again = await token(person, { grant_type: 'refresh_token', refresh_token: refresh })
    assert.deepEqual([again.status, audOf(again)], [200, ORDERS])
    const named = await token(person, { grant_type: 'refresh_token', refresh_token: String(body(again).refresh_token), resource: ORDERS })
    assert.deepEqual([named.status, audOf(named)], [200, ORDERS])
    // Another resource the client may have is still not this grant's: a refresh never widens it.
    const other = await token(person, { grant_type: 'refresh_token', refresh_token: String(body(named).refresh_token), resource: BILLING })
    assert.deepEqual(errorOf(other), { status: 400, error: 'invalid_target', cache: 'no-store' })
  })

  it('refuses the resource of a refresh once the client may no longer ask for it', async () => {
    const client = await server.createClient({ grantTypes: ['password', 'refresh_token'], scopes: ['api'], resources: [ORDERS] })
    const first = await token(client, { grant_type: 'password', username: 'rita@example.com', password: PASSWORD, resource: ORDERS })
    assert.equal(first.status, 200)
    await server.server.gatehouse.clients.update(client.id, { resources: [] })
    const again = await token(client, { grant_type: 'refresh_token', refresh_token: String(body(first).refresh_token) })
    assert.deepEqual(errorOf(again), { status: 400, error: 'invalid_target', cache: 'no-store' })
  })

  describe('at the authorization endpoint', () => {
    async function authorize(resources: string[], extra: Record<string, string> = {}) {
      const verifier = randomBytes(32).toString('base64url')
      const query = new URLSearchParams({ response_type: 'code', client_id: web.id, redirect_uri: REDIRECT, scope: 'openid api', state: 's1', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', ...extra })
      for (const resource of resources) query.append('resource', resource)
      const browser = new CookieBrowser(server.url)
      const page = await browser.get(`/oauth/authorize?${query}`)
      if (page.status !== 200) return { page, verifier, location: new URL(page.location ?? 'about:blank') }
      const back = await browser.post('/signin', { _csrf: inputValue(page.text, '_csrf'), authorization: inputValue(page.text, 'authorization'), username: 'rita@example.com', password: PASSWORD })
      return { page: back, verifier, location: new URL(back.location ?? 'about:blank') }
    }
    const redeem = (code: string, verifier: string, resource?: string) =>
      token(web, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, ...(resource !== undefined ? { resource } : {}) })

    it('grants several resources; the code gives the one named (or the first), a refresh any of them and no other', async () => {
      const { location, verifier } = await authorize([ORDERS, BILLING])
      const code = location.searchParams.get('code')
      assert.ok(code, location.href)
      const tokens = await redeem(code, verifier, BILLING)
      assert.deepEqual([tokens.status, audOf(tokens)], [200, BILLING])
      const refreshed = await token(web, { grant_type: 'refresh_token', refresh_token: String(body(tokens).refresh_token), resource: ORDERS })
      assert.deepEqual([refreshed.status, audOf(refreshed)], [200, ORDERS])
      const byDefault = await token(web, { grant_type: 'refresh_token', refresh_token: String(body(refreshed).refresh_token) })
      assert.deepEqual([byDefault.status, audOf(byDefault)], [200, ORDERS])

      const second = await authorize([ORDERS])
      const other = await redeem(second.location.searchParams.get('code') ?? '', second.verifier, BILLING)
      assert.deepEqual(errorOf(other), { status: 400, error: 'invalid_target', cache: 'no-store' })
    })

    it('answers invalid_target at the redirect URI for a resource the client may not ask for', async () => {
      const { page, location } = await authorize(['https://elsewhere.example.com/'])
      assert.equal(page.status, 303)
      assert.deepEqual([`${location.origin}${location.pathname}`, location.searchParams.get('error'), location.searchParams.get('state')], [REDIRECT, 'invalid_target', 's1'])
    })

    it('refuses a malformed dpop_jkt, and a code bound to a key redeemed without a proof by it (RFC 9449 §10)', async () => {
      const malformed = await authorize([], { dpop_jkt: 'not-a-thumbprint' })
      assert.deepEqual([malformed.page.status, malformed.location.searchParams.get('error')], [303, 'invalid_request'])
      const bound = await authorize([], { dpop_jkt: 'A'.repeat(43) })
      const code = bound.location.searchParams.get('code')
      assert.ok(code, bound.location.href)
      const answer = await redeem(code, bound.verifier)
      assert.deepEqual(errorOf(answer), { status: 400, error: 'invalid_grant', cache: 'no-store' })
    })

    it('redeems a code bound with dpop_jkt only with a proof by that key, and binds the token to it', async () => {
      const key = await dpopKey()
      const other = await dpopKey()
      const jkt = await calculateJwkThumbprint(key.publicJwk)
      const proofed = async (holder: typeof key, code: string, verifier: string) =>
        request(`${server.url}/oauth/token`, {
          form: { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier },
          basic: web,
          headers: { dpop: await holder.proof({ htm: 'POST', htu: `${server.url}/oauth/token` }) },
        })
      const first = await authorize([], { dpop_jkt: jkt })
      const wrongKey = await proofed(other, first.location.searchParams.get('code') ?? '', first.verifier)
      assert.deepEqual(errorOf(wrongKey), { status: 400, error: 'invalid_grant', cache: 'no-store' })
      const second = await authorize([], { dpop_jkt: jkt })
      const answer = await proofed(key, second.location.searchParams.get('code') ?? '', second.verifier)
      assert.deepEqual([answer.status, body(answer).token_type, (jwtPayload(String(body(answer).access_token)).cnf as { jkt?: string } | undefined)?.jkt], [200, 'DPoP', jkt])
    })
  })
})
