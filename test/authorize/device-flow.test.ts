import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { ManualClock } from '../../src/core/clock.js'
import { DEVICE_CODE_GRANT } from '../../src/core/types.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { CookieBrowser, inputValue, type PageAnswer } from '../helpers/browser-session.js'
import { request, type HttpAnswer } from '../helpers/http.js'

const PASSWORD = 'correct horse battery'
const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/

interface DeviceAnswer {
  device_code: string
  user_code: string
  verification_uri: string
  verification_uri_complete: string
  expires_in: number
  interval: number
}

/** A client as the tests use it: a secret for a confidential one, none for a public one. */
interface TestClient {
  id: string
  secret?: string
}

/**
 * The device authorization grant (RFC 8628) against the real server: a device (here, the test)
 * asks for codes and polls the token endpoint; a person (a cookie-keeping fetch) types the code
 * at /device, signs in and allows or denies. Time is a ManualClock, so intervals and expiry are
 * exact. Chromium drives the same pages in test/e2e/device.test.ts.
 */
describe('device authorization grant (RFC 8628)', () => {
  let server: TestServer
  let clock: ManualClock
  let tv: TestClient
  let cli: TestClient
  let userId: string

  const credentials = (client: TestClient) => (client.secret !== undefined ? { basic: { id: client.id, secret: client.secret } } : {})
  const clientIdField = (client: TestClient): Record<string, string> => (client.secret === undefined ? { client_id: client.id } : {})

  async function startDevice(client: TestClient, form: Record<string, string> = {}): Promise<DeviceAnswer> {
    const answer = await request(`${server.url}/oauth/device_authorization`, { form: { ...clientIdField(client), ...form }, ...credentials(client) })
    assert.equal(answer.status, 200, answer.text)
    return answer.body as DeviceAnswer
  }

  const poll = (client: TestClient, deviceCode: string): Promise<HttpAnswer> =>
    request(`${server.url}/oauth/token`, { form: { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, ...clientIdField(client) }, ...credentials(client) })

  const errorOf = (answer: HttpAnswer): string => (answer.body as { error?: string } | undefined)?.error ?? `HTTP ${answer.status}`

  async function expectError(answer: Promise<HttpAnswer>, error: string): Promise<void> {
    const sent = await answer
    assert.equal(sent.status, 400, sent.text)
    assert.equal(errorOf(sent), error, sent.text)
    assert.equal(sent.headers.get('cache-control'), 'no-store')
  }

  let users = 0
  async function freshUser(name?: string): Promise<{ username: string; id: string }> {
    const username = `device${++users}@example.com`
    const { id } = await server.createUser(username, PASSWORD, name)
    return { username, id }
  }

  /** Types the code at /device; answers the page that follows (sign-in, or confirmation when signed in). */
  async function enterCode(browser: CookieBrowser, userCode: string): Promise<PageAnswer> {
    const form = await browser.get('/device')
    assert.equal(form.status, 200)
    return browser.post('/device', { _csrf: inputValue(form.text, '_csrf'), user_code: userCode })
  }

  async function signIn(browser: CookieBrowser, page: PageAnswer, username: string, password = PASSWORD): Promise<PageAnswer> {
    assert.equal(page.status, 200, page.text)
    assert.match(page.text, /action="\/device\/signin"/)
    return browser.post('/device/signin', { _csrf: inputValue(page.text, '_csrf'), user_code: inputValue(page.text, 'user_code'), username, password })
  }

  async function decide(browser: CookieBrowser, page: PageAnswer, decision: 'allow' | 'deny'): Promise<PageAnswer> {
    assert.equal(page.status, 200, page.text)
    assert.match(page.text, /action="\/device\/decision"/)
    return browser.post('/device/decision', { _csrf: inputValue(page.text, '_csrf'), user_code: inputValue(page.text, 'user_code'), decision })
  }

  /** The whole person's side: code, sign-in, decision; answers the 303 to the done page. */
  async function approve(userCode: string, username: string, decision: 'allow' | 'deny' = 'allow', browser = new CookieBrowser(server.url)): Promise<PageAnswer> {
    const done = await decide(browser, await signIn(browser, await enterCode(browser, userCode), username), decision)
    assert.equal(done.status, 303, done.text)
    return done
  }

  before(async () => {
    clock = new ManualClock(Date.now())
    server = await startTestServer({ clock })
    userId = (await server.createUser('ann@example.com', PASSWORD, 'Ann')).id
    await server.server.gatehouse.apis.create({ identifier: 'https://api.example.com/', name: 'Example API', scopes: [{ name: 'api', description: 'Read and change your example data' }] })
    const clients = server.server.gatehouse.clients
    const confidential = await clients.create({ name: 'Living Room TV', grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'], scopes: ['openid', 'profile', 'email', 'api'] })
    tv = { id: confidential.client.id, secret: confidential.clientSecret ?? '' }
    const open = await clients.create({ name: 'Example CLI', tokenEndpointAuthMethod: 'none', grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'], scopes: ['openid', 'profile', 'email', 'api'] })
    assert.equal(open.clientSecret, null)
    cli = { id: open.client.id }
  })
  after(() => server.close())

  it('publishes the device authorization endpoint and the grant type (RFC 8628 §4)', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const body = (await request(`${server.url}${path}`)).body as Record<string, unknown>
      assert.equal(body.device_authorization_endpoint, `${server.url}/oauth/device_authorization`)
      assert.ok((body.grant_types_supported as string[]).includes(DEVICE_CODE_GRANT))
    }
  })

  it('pending → the person signs in and allows → tokens, with an ID token for openid', async () => {
    const answer = await request(`${server.url}/oauth/device_authorization`, { form: { scope: 'openid profile email api' }, basic: { id: tv.id, secret: tv.secret ?? '' } })
    assert.equal(answer.status, 200)
    assert.equal(answer.headers.get('cache-control'), 'no-store')
    assert.match(answer.headers.get('content-type') ?? '', /^application\/json/)
    const device = answer.body as DeviceAnswer
    assert.deepEqual(Object.keys(device).sort(), ['device_code', 'expires_in', 'interval', 'user_code', 'verification_uri', 'verification_uri_complete'])
    assert.match(device.device_code, /^[A-Za-z0-9_-]{43}$/)
    assert.match(device.user_code, USER_CODE)
    assert.equal(device.verification_uri, `${server.url}/device`)
    assert.equal(device.verification_uri_complete, `${server.url}/device?user_code=${device.user_code}`)
    assert.deepEqual([device.expires_in, device.interval], [600, 5])

    await expectError(poll(tv, device.device_code), 'authorization_pending')

    // verification_uri_complete fills the code in; the person still presses Continue.
    const browser = new CookieBrowser(server.url)
    const form = await browser.get(device.verification_uri_complete)
    assert.equal(form.status, 200)
    assert.equal(form.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.match(form.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/)
    assert.equal(inputValue(form.text, 'user_code'), device.user_code)
    assert.match(form.text, /<label class="field"><span>Code<\/span><input/)
    const signInPage = await browser.post('/device', { _csrf: inputValue(form.text, '_csrf'), user_code: device.user_code })
    assert.match(signInPage.text, /Living Room TV/)
    const confirm = await signIn(browser, signInPage, 'ann@example.com')
    assert.ok(browser.cookie('gatehouse_session'), 'signing in started a session')
    assert.match(confirm.text, /<strong>Living Room TV<\/strong> wants to use your account/)
    assert.match(confirm.text, /Read and change your example data/)
    assert.match(confirm.text, /See your email address/)
    assert.match(confirm.text, new RegExp(`<span class="user-code">${device.user_code}</span>`))
    const done = await decide(browser, confirm, 'allow')
    assert.equal(done.status, 303)
    assert.equal(done.location, `${server.url}/device/done?result=approved`)
    const donePage = await browser.get(done.location ?? '')
    assert.match(donePage.text, /You can return to your device/)

    clock.advance(5_000)
    const tokens = await poll(tv, device.device_code)
    assert.equal(tokens.status, 200, tokens.text)
    assert.equal(tokens.headers.get('cache-control'), 'no-store')
    const issued = tokens.body as { access_token: string; token_type: string; refresh_token?: string; id_token?: string; scope: string }
    assert.equal(issued.token_type, 'Bearer')
    assert.equal(issued.scope, 'api email openid profile')
    assert.ok(issued.refresh_token, 'the client holds refresh_token')
    assert.ok(issued.id_token)
    const { payload } = await jwtVerify(issued.id_token, createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`)), { issuer: server.url, audience: tv.id, currentDate: new Date(clock.now()) })
    assert.equal(payload.sub, userId)
    assert.equal(payload.email, 'ann@example.com')
    assert.equal(payload.name, 'Ann')
    assert.equal(typeof payload.auth_time, 'number')
    assert.equal(typeof payload.sid, 'string')
    assert.equal(typeof payload.at_hash, 'string')
    assert.equal(payload.nonce, undefined)

    const introspected = await request(`${server.url}/oauth/introspect`, { form: { token: issued.access_token }, basic: { id: tv.id, secret: tv.secret ?? '' } })
    assert.equal((introspected.body as { active: boolean }).active, true)
    const refreshed = await request(`${server.url}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: issued.refresh_token ?? '' }, basic: { id: tv.id, secret: tv.secret ?? '' } })
    assert.equal(refreshed.status, 200, refreshed.text)

    // Redeemed once: a second redemption is invalid_grant, and the first tokens stay good.
    clock.advance(5_000)
    await expectError(poll(tv, device.device_code), 'invalid_grant')
    const still = await request(`${server.url}/oauth/introspect`, { form: { token: issued.access_token }, basic: { id: tv.id, secret: tv.secret ?? '' } })
    assert.equal((still.body as { active: boolean }).active, true)
    // The consent is remembered (Connected apps).
    assert.deepEqual((await server.server.gatehouse.consents.list(userId)).map((consent) => consent.clientId), [tv.id])
  })

  it('a denial is access_denied, poll after poll', async () => {
    const device = await startDevice(tv, { scope: 'openid' })
    const done = await approve(device.user_code, (await freshUser()).username, 'deny')
    assert.equal(done.location, `${server.url}/device/done?result=denied`)
    await expectError(poll(tv, device.device_code), 'access_denied')
    clock.advance(5_000)
    await expectError(poll(tv, device.device_code), 'access_denied')
  })

  it('polling sooner than the interval is slow_down, and the interval grows by 5 s each time (§3.5)', async () => {
    const device = await startDevice(tv)
    await expectError(poll(tv, device.device_code), 'authorization_pending')
    await expectError(poll(tv, device.device_code), 'slow_down') // at once: the interval is now 10 s
    clock.advance(5_000)
    await expectError(poll(tv, device.device_code), 'slow_down') // 5 s < 10 s: now 15 s
    clock.advance(14_999)
    await expectError(poll(tv, device.device_code), 'slow_down') // just short of 15 s: now 20 s
    clock.advance(20_000)
    await expectError(poll(tv, device.device_code), 'authorization_pending')
    clock.advance(20_000)
    await expectError(poll(tv, device.device_code), 'authorization_pending')
    // Approved after all, the same device code still gets its tokens.
    await approve(device.user_code, (await freshUser()).username)
    clock.advance(20_000)
    assert.equal((await poll(tv, device.device_code)).status, 200)
  })

  it('after expires_in the device hears expired_token, and the page says the code expired', async () => {
    const device = await startDevice(tv)
    const browser = new CookieBrowser(server.url)
    const signInPage = await enterCode(browser, device.user_code)
    clock.advance(600_000)
    await expectError(poll(tv, device.device_code), 'expired_token')
    const late = await signIn(browser, signInPage, (await freshUser()).username)
    assert.equal(late.status, 400)
    assert.match(late.text, /That code has expired/)
    const again = await enterCode(browser, device.user_code)
    assert.equal(again.status, 400)
    assert.match(again.text, /That code has expired/)
  })

  it('an approval that expires before the device redeems it is expired_token too', async () => {
    const device = await startDevice(tv)
    await approve(device.user_code, (await freshUser()).username)
    clock.advance(600_000)
    await expectError(poll(tv, device.device_code), 'expired_token')
  })

  it('two polls at once after the approval: one gets the tokens, the other invalid_grant', async () => {
    const device = await startDevice(tv, { scope: 'api' })
    await approve(device.user_code, (await freshUser()).username)
    clock.advance(5_000)
    const answers = await Promise.all([poll(tv, device.device_code), poll(tv, device.device_code), poll(tv, device.device_code)])
    assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 400, 400])
    assert.deepEqual(answers.filter((answer) => answer.status === 400).map(errorOf), ['invalid_grant', 'invalid_grant'])
  })

  it("another client's device_code is invalid_grant, like an unknown one; its own client still redeems it", async () => {
    const device = await startDevice(tv)
    await approve(device.user_code, (await freshUser()).username)
    clock.advance(5_000)
    await expectError(poll(cli, device.device_code), 'invalid_grant')
    await expectError(poll(tv, 'not-a-device-code'), 'invalid_grant')
    const missing = await request(`${server.url}/oauth/token`, { form: { grant_type: DEVICE_CODE_GRANT }, basic: { id: tv.id, secret: tv.secret ?? '' } })
    assert.deepEqual([missing.status, missing.body], [400, { error: 'invalid_request', error_description: 'The device_code parameter is required.' }])
    assert.equal((await poll(tv, device.device_code)).status, 200)
  })

  it('a public client uses client_id alone at both endpoints', async () => {
    const device = await startDevice(cli, { scope: 'openid email' })
    await expectError(poll(cli, device.device_code), 'authorization_pending')
    const { username, id } = await freshUser()
    await approve(device.user_code, username)
    clock.advance(5_000)
    const tokens = await poll(cli, device.device_code)
    assert.equal(tokens.status, 200, tokens.text)
    const issued = tokens.body as { id_token: string; refresh_token?: string }
    assert.ok(issued.refresh_token)
    const { payload } = await jwtVerify(issued.id_token, createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`)), { issuer: server.url, audience: cli.id, currentDate: new Date(clock.now()) })
    assert.deepEqual([payload.sub, payload.email], [id, username])
    // A confidential client cannot do without its secret.
    const unauthenticated = await request(`${server.url}/oauth/device_authorization`, { form: { client_id: tv.id } })
    assert.equal(unauthenticated.status, 401)
    assert.equal(errorOf(unauthenticated), 'invalid_client')
  })

  it('refuses a client without the device grant, a scope it may not have, and no client at all', async () => {
    const m2m = await server.createClient({ grantTypes: ['client_credentials'] })
    const refused = await request(`${server.url}/oauth/device_authorization`, { form: {}, basic: m2m })
    assert.deepEqual([refused.status, errorOf(refused)], [400, 'unauthorized_client'])
    const scope = await request(`${server.url}/oauth/device_authorization`, { form: { scope: 'admin' }, basic: { id: tv.id, secret: tv.secret ?? '' } })
    assert.deepEqual([scope.status, errorOf(scope)], [400, 'invalid_scope'])
    const anonymous = await request(`${server.url}/oauth/device_authorization`, { form: { scope: 'openid' } })
    assert.deepEqual([anonymous.status, errorOf(anonymous)], [401, 'invalid_client'])
    const wrongSecret = await request(`${server.url}/oauth/device_authorization`, { form: {}, basic: { id: tv.id, secret: 'wrong' } })
    assert.equal(wrongSecret.status, 401)
    assert.match(wrongSecret.headers.get('www-authenticate') ?? '', /^Basic realm="gatehouse"/)
    const get = await request(`${server.url}/oauth/device_authorization?client_id=${cli.id}`)
    assert.equal(get.status, 404)
  })

  it('takes the user code in lower case, with or without the dash, with spaces', async () => {
    for (const typed of [(code: string) => code.toLowerCase(), (code: string) => code.replace('-', '').toLowerCase(), (code: string) => ` ${code.replace('-', ' ')} `, (code: string) => code.replace('-', '')]) {
      const device = await startDevice(cli)
      const page = await enterCode(new CookieBrowser(server.url), typed(device.user_code))
      assert.equal(page.status, 200, page.text)
      assert.match(page.text, /action="\/device\/signin"/)
      assert.equal(inputValue(page.text, 'user_code'), device.user_code, 'carried on in its display form')
    }
  })

  it('a signed-in person goes straight to the confirmation (single sign-on), and is asked every time', async () => {
    const browser = new CookieBrowser(server.url)
    const { username } = await freshUser()
    await approve((await startDevice(cli, { scope: 'openid' })).user_code, username, 'allow', browser)
    const second = await startDevice(cli, { scope: 'openid' })
    const page = await enterCode(browser, second.user_code)
    assert.match(page.text, /action="\/device\/decision"/, 'no password again, but the confirmation even though the consent is remembered (RFC 8628 §5.4)')
    assert.match(page.text, new RegExp(`Signed in as ${username.replace('.', '\\.')}`))
    assert.equal((await decide(browser, page, 'allow')).status, 303)
  })

  it('a code already decided cannot be decided again', async () => {
    const device = await startDevice(cli)
    const browser = new CookieBrowser(server.url)
    const confirm = await signIn(browser, await enterCode(browser, device.user_code), (await freshUser()).username)
    assert.equal((await decide(browser, confirm, 'deny')).status, 303)
    const again = await decide(browser, confirm, 'allow')
    assert.equal(again.status, 400)
    assert.match(again.text, /already been used/)
    clock.advance(5_000)
    await expectError(poll(cli, device.device_code), 'access_denied')
  })

  it('an account the client may not sign in is refused on the page, and the device hears access_denied', async () => {
    const { id: allowedId } = await freshUser()
    const restricted = await server.server.gatehouse.clients.create({ name: 'Kiosk', tokenEndpointAuthMethod: 'none', grantTypes: [DEVICE_CODE_GRANT], scopes: ['openid'], allowedUsers: [allowedId] })
    const kiosk = { id: restricted.client.id }
    const device = await startDevice(kiosk)
    const browser = new CookieBrowser(server.url)
    const page = await decide(browser, await signIn(browser, await enterCode(browser, device.user_code), (await freshUser()).username), 'allow')
    assert.equal(page.status, 403)
    assert.match(page.text, /may not sign in to Kiosk/)
    await expectError(poll(kiosk, device.device_code), 'access_denied')
  })

  it('a wrong password is refused on the device sign-in page, one attempt per form', async () => {
    const device = await startDevice(cli)
    const browser = new CookieBrowser(server.url)
    const page = await enterCode(browser, device.user_code)
    const { username } = await freshUser()
    const wrong = await signIn(browser, page, username, 'wrong password')
    assert.equal(wrong.status, 401)
    assert.match(wrong.text, /Invalid email or password/)
    assert.equal(browser.cookie('gatehouse_session'), undefined)
    const reused = await browser.post('/device/signin', { _csrf: inputValue(page.text, '_csrf'), user_code: device.user_code, username, password: PASSWORD })
    assert.equal(reused.status, 403, 'the first form was used up')
    const right = await browser.post('/device/signin', { _csrf: inputValue(wrong.text, '_csrf'), user_code: device.user_code, username, password: PASSWORD })
    assert.match(right.text, /action="\/device\/decision"/, 'the page that said no carries a fresh form')
  })

  it('CSRF: every /device post without its token is refused and changes nothing', async () => {
    const device = await startDevice(cli)
    const browser = new CookieBrowser(server.url)
    const form = await browser.get('/device')
    const csrf = inputValue(form.text, '_csrf')
    for (const attempt of [{ user_code: device.user_code }, { _csrf: 'forged', user_code: device.user_code }] as Record<string, string>[]) {
      const refused = await browser.post('/device', attempt)
      assert.equal(refused.status, 403)
      assert.match(refused.text, /The form expired/)
      assert.doesNotMatch(refused.text, /action="\/device\/signin"/)
    }
    // A token from someone else's form (another browser's cookie) does not pass either.
    const stranger = await new CookieBrowser(server.url).post('/device', { _csrf: csrf, user_code: device.user_code })
    assert.equal(stranger.status, 403)
    const forgedSignIn = await new CookieBrowser(server.url).post('/device/signin', { _csrf: csrf, user_code: device.user_code, username: 'ann@example.com', password: PASSWORD })
    assert.equal(forgedSignIn.status, 403)

    const confirm = await signIn(browser, await browser.post('/device', { _csrf: csrf, user_code: device.user_code }), (await freshUser()).username)
    const forgedDecision = await browser.post('/device/decision', { _csrf: 'forged', user_code: device.user_code, decision: 'allow' })
    assert.equal(forgedDecision.status, 403)
    const noSession = await new CookieBrowser(server.url).post('/device/decision', { _csrf: inputValue(confirm.text, '_csrf'), user_code: device.user_code, decision: 'allow' })
    assert.equal(noSession.status, 403)
    clock.advance(5_000)
    await expectError(poll(cli, device.device_code), 'authorization_pending')
    assert.equal((await decide(browser, confirm, 'allow')).status, 303, 'the real form still works')
  })

  it('the done page shows only the two outcomes', async () => {
    const browser = new CookieBrowser(server.url)
    assert.match((await browser.get('/device/done?result=denied')).text, /Nothing was shared with the device/)
    const other = await browser.get('/device/done?result=<script>')
    assert.deepEqual([other.status, other.location], [303, `${server.url}/device`])
  })

  it('IdentityServer: /connect/deviceauthorization takes forms only, answers every error with 400, and /connect/token redeems', async () => {
    const created = await server.server.gatehouse.clients.create({ name: 'Set-top box', tokenEndpointAuthMethod: 'none', grantTypes: [DEVICE_CODE_GRANT], scopes: ['openid', 'email', 'offline_access', 'api'] })
    const box = { id: created.client.id }
    const json = await request(`${server.url}/connect/deviceauthorization`, { json: { client_id: box.id } })
    assert.deepEqual([json.status, errorOf(json)], [400, 'invalid_request'])
    const anonymous = await request(`${server.url}/connect/deviceauthorization`, { form: { scope: 'openid' } })
    assert.deepEqual([anonymous.status, errorOf(anonymous)], [400, 'invalid_client'])
    assert.equal(anonymous.headers.get('cache-control'), 'no-store, no-cache, max-age=0')
    const started = await request(`${server.url}/connect/deviceauthorization`, { form: { client_id: box.id, scope: 'openid email offline_access' } })
    assert.equal(started.status, 200, started.text)
    assert.equal(started.headers.get('cache-control'), 'no-store, no-cache, max-age=0')
    const device = started.body as DeviceAnswer
    assert.match(device.user_code, USER_CODE)
    const connectPoll = () => request(`${server.url}/connect/token`, { form: { grant_type: DEVICE_CODE_GRANT, device_code: device.device_code, client_id: box.id } })
    const pending = await connectPoll()
    assert.deepEqual([pending.status, errorOf(pending)], [400, 'authorization_pending'])
    await approve(device.user_code, (await freshUser()).username)
    clock.advance(5_000)
    const tokens = await connectPoll()
    assert.equal(tokens.status, 200, tokens.text)
    const body = tokens.body as Record<string, unknown>
    assert.equal(Object.keys(body)[0], 'id_token', 'Duende answers the ID token first')
    assert.ok(body.refresh_token, 'offline_access was granted')
    // IdentityServer's rules: scope omitted is all the client may have; no offline_access, no refresh token.
    const redeem = async (form: Record<string, string>): Promise<Record<string, unknown>> => {
      const started = (await request(`${server.url}/connect/deviceauthorization`, { form: { client_id: box.id, ...form } })).body as DeviceAnswer
      await approve(started.user_code, (await freshUser()).username)
      clock.advance(5_000)
      return (await request(`${server.url}/connect/token`, { form: { grant_type: DEVICE_CODE_GRANT, device_code: started.device_code, client_id: box.id } })).body as Record<string, unknown>
    }
    const everything = await redeem({})
    assert.equal(everything.scope, 'api email offline_access openid')
    assert.ok(everything.refresh_token)
    const without = await redeem({ scope: 'openid api' })
    assert.equal(without.scope, 'api openid')
    assert.equal(without.refresh_token, undefined)
  })
})

describe('guessing user codes (RFC 8628 §5.1)', () => {
  let server: TestServer
  let clock: ManualClock
  let cli: TestClient

  before(async () => {
    clock = new ManualClock(Date.now())
    server = await startTestServer({ clock })
    const created = await server.server.gatehouse.clients.create({ name: 'Example CLI', tokenEndpointAuthMethod: 'none', grantTypes: [DEVICE_CODE_GRANT], scopes: ['openid'] })
    cli = { id: created.client.id }
  })
  after(() => server.close())

  it('ten wrong codes from an address, then 429 with a page, even for a right code; malformed input costs nothing', async () => {
    const device = (await request(`${server.url}/oauth/device_authorization`, { form: { client_id: cli.id } })).body as DeviceAnswer
    const browser = new CookieBrowser(server.url)
    const form = await browser.get('/device')
    const csrf = inputValue(form.text, '_csrf')
    const post = (code: string) => browser.post('/device', { _csrf: csrf, user_code: code })
    for (let attempt = 0; attempt < 20; attempt++) {
      const malformed = await post('not a code')
      assert.equal(malformed.status, 400)
      assert.match(malformed.text, /Enter the 8-letter code/)
    }
    for (let attempt = 0; attempt < 10; attempt++) {
      const wrong = await post(`BCDF-GH${'BCDFGHJKLM'[attempt]}Z`)
      assert.equal(wrong.status, 400, `attempt ${attempt + 1}`)
      assert.match(wrong.text, /That code is not valid/)
    }
    const throttled = await post('BCDF-GHJK')
    assert.equal(throttled.status, 429)
    assert.equal(throttled.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.ok(Number(throttled.headers.get('retry-after')) >= 1)
    assert.match(throttled.text, /Too many wrong codes/)
    const right = await post(device.user_code)
    assert.equal(right.status, 429, 'refused before any lookup')
    // The bucket refills one guess a minute.
    clock.advance(60_000)
    const later = await post(device.user_code)
    assert.equal(later.status, 200, later.text)
    assert.match(later.text, /action="\/device\/signin"/)
  })
})
