import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { jwtPayload, request } from '../helpers/http.js'
import { createOperatorToken } from '../../src/core/admin/operator-token.js'
import { assertionFields, clientKey, signAssertion } from '../helpers/assertions.js'
import { Browser, alertText, type Answer } from '../helpers/console-browser.js'
import { snippet, tokenRequest } from '../../src/snippets/index.js'

const INVOICES = 'https://invoices.example.com/'

describe('developer console over HTTP', () => {
  let server: TestServer

  before(async () => {
    server = await startTestServer()
    await server.createUser('ada@example.com', 'ada-password-1')
    await server.createUser('bob@example.com', 'bob-password-1')
    await server.server.gatehouse.apis.create({
      identifier: INVOICES,
      name: 'Invoices',
      scopes: [
        { name: 'invoices:read', description: 'Read your invoices', selfService: true },
        { name: 'invoices:write', description: 'Create and change invoices' },
      ],
    })
    await server.server.gatehouse.apis.create({ identifier: 'https://reports.example.com/', name: 'Reports', scopes: [{ name: 'read', description: 'Read every report' }] })
  })
  after(() => server.close())

  it('sends a visitor without a session to the sign-in page', async () => {
    const answer = await new Browser(server.url).go('/console')
    assert.deepEqual([answer.status, answer.headers.get('location')], [303, '/console/login'])
  })

  it('serves the sign-in page with strict headers and an HttpOnly SameSite=Strict login cookie', async () => {
    const answer = await fetch(`${server.url}/console/login`)
    assert.equal(answer.status, 200)
    assert.equal(answer.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.equal(
      answer.headers.get('content-security-policy'),
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    assert.equal(answer.headers.get('x-frame-options'), 'DENY')
    const [cookie] = answer.headers.getSetCookie()
    assert.match(cookie ?? '', /^gatehouse_console_login=[^;]+; Max-Age=3600; Path=\/console; HttpOnly; SameSite=Strict$/)
  })

  it('signs in with a session cookie that is HttpOnly, SameSite=Strict and not Secure over plain HTTP', async () => {
    const browser = new Browser(server.url)
    const login = await browser.go('/console/login')
    const answer = await fetch(`${server.url}/console/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `gatehouse_console_login=${browser.cookies.get('gatehouse_console_login')}` },
      body: new URLSearchParams({ _csrf: Browser.csrf(login), username: 'ada@example.com', password: 'ada-password-1' }).toString(),
    })
    assert.deepEqual([answer.status, answer.headers.get('location')], [303, '/console'])
    const session = answer.headers.getSetCookie().find((line) => line.startsWith('gatehouse_console='))
    assert.match(session ?? '', /^gatehouse_console=[\w-]+\.[\w-]+; Max-Age=28800; Path=\/console; HttpOnly; SameSite=Strict$/)
  })

  it('refuses a sign-in without the form CSRF token', async () => {
    const browser = new Browser(server.url)
    await browser.go('/console/login')
    const answer = await browser.go('/console/login', { username: 'ada@example.com', password: 'ada-password-1' })
    assert.equal(answer.status, 403)
    assert.match(answer.text, /The sign-in form expired/)
    assert.equal(browser.cookies.has('gatehouse_console'), false)
  })

  it('ends a session for good on sign-out: a copy of its cookie no longer works', async () => {
    const browser = new Browser(server.url)
    await browser.signIn('ada@example.com', 'ada-password-1')
    const copy = new Browser(server.url)
    for (const [name, value] of browser.cookies) copy.cookies.set(name, value)
    assert.equal((await copy.go('/console')).status, 200)
    const dashboard = await browser.go('/console')
    assert.deepEqual([(await browser.go('/console/logout', { _csrf: Browser.csrf(dashboard) })).status], [303])
    const replayed = await copy.go('/console')
    assert.deepEqual([replayed.status, replayed.headers.get('location')], [303, '/console/login'])
  })

  it("ends every console session of a user whose password is set anew (CLI, management API)", async () => {
    await server.createUser('paula@example.com', 'paula-password-1')
    const browser = new Browser(server.url)
    await browser.signIn('paula@example.com', 'paula-password-1')
    assert.equal((await browser.go('/console')).status, 200)
    await server.server.gatehouse.users.setPassword('paula@example.com', 'paula-password-2')
    const after = await browser.go('/console')
    assert.deepEqual([after.status, after.headers.get('location')], [303, '/console/login'])
    await browser.signIn('paula@example.com', 'paula-password-2')
    assert.equal((await browser.go('/console')).status, 200)
  })

  it('records a failed console sign-in as an audit event, without the password', async () => {
    const browser = new Browser(server.url)
    const answer = await browser.signIn('ada@example.com', 'wrong-password-9')
    assert.equal(answer.status, 401)
    assert.match(answer.text, /Invalid username or password\./)
    await server.server.gatehouse.audit.flush()
    const events = await server.server.gatehouse.audit.list({ limit: 10, action: 'user.authentication_failed' })
    assert.deepEqual(events.map((event) => [event.target, event.details]), [['user:ada@example.com', { reason: 'wrong password', via: 'console' }]])
    assert.doesNotMatch(JSON.stringify(events), /wrong-password-9/)
  })

  it('takes one attempt per sign-in form: a nonce cookie posted again is refused before any password check', async () => {
    const browser = new Browser(server.url)
    const form = await browser.go('/console/login')
    const nonceCookie = browser.cookies.get('gatehouse_console_login') ?? ''
    const post = () =>
      fetch(`${server.url}/console/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `gatehouse_console_login=${nonceCookie}` },
        body: new URLSearchParams({ _csrf: Browser.csrf(form), username: 'ada@example.com', password: 'wrong-password-9' }).toString(),
      })
    await server.server.gatehouse.audit.flush()
    const failuresBefore = (await server.server.gatehouse.audit.list({ limit: 100, action: 'user.authentication_failed' })).length
    const answers = await Promise.all(Array.from({ length: 20 }, post))
    assert.deepEqual(answers.map((answer) => answer.status).sort(), [401, ...Array(19).fill(403)])
    await server.server.gatehouse.audit.flush()
    // One password check was made, not twenty.
    assert.equal((await server.server.gatehouse.audit.list({ limit: 100, action: 'user.authentication_failed' })).length, failuresBefore + 1)
  })

  it('refuses a state-changing post without the CSRF token, and creates nothing', async () => {
    const browser = new Browser(server.url)
    await browser.signIn('ada@example.com', 'ada-password-1')
    const answer = await browser.go('/console/apps', { name: 'Sneaky', grant: 'client_credentials', scopes: '', token_format: 'jwt', access_token_ttl: '600' })
    assert.equal(answer.status, 403)
    assert.match(answer.text, /did not come from this console/)
    const forged = await browser.submit('/console/apps', { _csrf: 'forged', name: 'Sneaky', grant: 'client_credentials', scopes: '', token_format: 'jwt', access_token_ttl: '600' })
    assert.equal(forged.status, 403)
    const dashboard = await browser.go('/console')
    assert.doesNotMatch(dashboard.text, /Sneaky/)
  })

  it('does not hand out the management-api scope (not a self-service scope of a registered API), and explains bad input on the form', async () => {
    const browser = new Browser(server.url)
    await browser.signIn('ada@example.com', 'ada-password-1')
    const form = await browser.go('/console/apps/new')
    const csrf = Browser.csrf(form)
    const scoped = await browser.submit('/console/apps', { _csrf: csrf, name: 'Root', grant: 'client_credentials', scopes: 'management-api', token_format: 'jwt', access_token_ttl: '600' })
    assert.equal(scoped.status, 400)
    assert.match(scoped.text, /Scope &quot;management-api&quot; is not a scope of any registered API\./)
    const ttl = await browser.submit('/console/apps', { _csrf: csrf, name: 'Long', grant: 'client_credentials', scopes: '', token_format: 'jwt', access_token_ttl: '0' })
    assert.equal(ttl.status, 400)
    assert.match(ttl.text, /Token lifetime must be a whole number of seconds from 1 to \d+\./)
    const escaped = await browser.submit('/console/apps', { _csrf: csrf, name: '<script>alert(1)</script>', grant: 'nope', scopes: '', token_format: 'jwt', access_token_ttl: '60' })
    assert.equal(escaped.status, 400)
    assert.ok(escaped.text.includes('value="&lt;script&gt;alert(1)&lt;/script&gt;"'))
    assert.ok(!escaped.text.includes('<script>alert(1)'))
  })

  it("shows a user only their own applications: another user's are 404 to view, rotate and delete", async () => {
    const ada = new Browser(server.url)
    await ada.signIn('ada@example.com', 'ada-password-1')
    const form = await ada.go('/console/apps/new')
    const created = await ada.submit('/console/apps', { _csrf: Browser.csrf(form), name: "Ada's app", grant: 'client_credentials', scopes: 'invoices:read', token_format: 'jwt', access_token_ttl: '600' })
    assert.equal(created.status, 200)
    const clientId = /id="client-id">([^<]+)</.exec(created.text)?.[1] ?? ''
    assert.notEqual(clientId, '')

    const bob = new Browser(server.url)
    await bob.signIn('bob@example.com', 'bob-password-1')
    const dashboard = await bob.go('/console')
    assert.doesNotMatch(dashboard.text, /Ada&#39;s app/)
    assert.equal((await bob.go(`/console/apps/${clientId}`)).status, 404)
    const csrf = Browser.csrf(dashboard)
    assert.equal((await bob.go(`/console/apps/${clientId}/rotate`, { _csrf: csrf })).status, 404)
    assert.equal((await bob.go(`/console/apps/${clientId}/delete`, { _csrf: csrf })).status, 404)
    assert.equal((await ada.go(`/console/apps/${clientId}`)).status, 200)
  })

  it('ignores a tampered session cookie and ends the session of a disabled user', async () => {
    const browser = new Browser(server.url)
    await browser.signIn('bob@example.com', 'bob-password-1')
    assert.equal((await browser.go('/console')).status, 200)
    const original = browser.cookies.get('gatehouse_console') ?? ''
    const [payload = '', mac = ''] = original.split('.')
    const forged = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>
    browser.cookies.set('gatehouse_console', `${Buffer.from(JSON.stringify({ ...forged, userId: 'someone-else' })).toString('base64url')}.${mac}`)
    assert.equal((await browser.go('/console')).status, 303)
    browser.cookies.set('gatehouse_console', original)
    await server.server.gatehouse.users.setDisabled('bob@example.com', true)
    assert.deepEqual([(await browser.go('/console')).status], [303])
    await server.server.gatehouse.users.setDisabled('bob@example.com', false)
  })

  it('marks the cookies Secure when the public URL is https (TLS at a proxy)', async () => {
    const tls = await startTestServer({ env: { GATEHOUSE_ISSUER: 'https://auth.example.com' } })
    try {
      const answer = await fetch(`${tls.url}/console/login`)
      assert.match(answer.headers.getSetCookie()[0] ?? '', /^gatehouse_console_login=[^;]+; Max-Age=3600; Path=\/console; HttpOnly; Secure; SameSite=Strict$/)
    } finally {
      await tls.close()
    }
  })

  it('applies the login lockout of the password grant to console sign-in, with the same answer', async () => {
    const locked = await startTestServer({ env: { GATEHOUSE_LOCKOUT: '2/15m' } })
    try {
      await locked.createUser('carol@example.com', 'carol-password-1')
      const browser = new Browser(locked.url)
      for (let i = 0; i < 2; i++) assert.equal((await browser.signIn('carol@example.com', 'guess-number-' + i)).status, 401)
      const right = await browser.signIn('carol@example.com', 'carol-password-1')
      assert.equal(right.status, 401)
      assert.match(right.text, /Invalid username or password\./)
      assert.equal(browser.cookies.has('gatehouse_console'), false)
    } finally {
      await locked.close()
    }
  })

  it('creates a password-grant application whose generated curl command asks /connect/token, where the user logs in', async () => {
    const ada = new Browser(server.url)
    await ada.signIn('ada@example.com', 'ada-password-1')
    const form = await ada.go('/console/apps/new')
    const created = await ada.submit('/console/apps', { _csrf: Browser.csrf(form), name: 'Mobile app', grant: 'password', scopes: 'profile', token_format: 'jwt', access_token_ttl: '300' })
    assert.equal(created.status, 200)
    const clientId = /id="client-id">([^<]+)</.exec(created.text)?.[1] ?? ''
    const secret = /id="client-secret">([^<]+)</.exec(created.text)?.[1] ?? ''
    const curl = /id="snippet-curl">([^<]+)</.exec(created.text)?.[1] ?? ''
    assert.equal(curl.replace(/&#39;/g, "'"), snippet(tokenRequest({ clientId, clientSecret: secret, authMethod: 'client_secret_basic', tokenEndpoint: `${server.config.issuer}/connect/token`, grantType: 'password' }), 'curl'))
    const answer = await fetch(`${server.url}/connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ' + Buffer.from(`${clientId}:${secret}`).toString('base64') },
      body: new URLSearchParams({ grant_type: 'password', username: 'ada@example.com', password: 'ada-password-1' }).toString(),
    })
    const body = (await answer.json()) as Record<string, unknown>
    assert.deepEqual([answer.status, body.scope, body.expires_in, typeof body.refresh_token], [200, 'offline_access profile', 300, 'string'])
  })

  it('lists the self-service scopes of registered APIs with their descriptions, and not the restricted ones', async () => {
    const ada = new Browser(server.url)
    await ada.signIn('ada@example.com', 'ada-password-1')
    const form = await ada.go('/console/apps/new')
    assert.equal(form.status, 200)
    const list = /<fieldset class="scopes" id="available-scopes">([\s\S]*?)<\/fieldset>/.exec(form.text)?.[1] ?? ''
    const choices = [...list.matchAll(/value="([^"]+)"><code>[^<]+<\/code><span class="description">([^<]+)</g)].map((match) => [match[1], match[2]])
    assert.deepEqual(choices, [
      ['openid', 'Sign users in: the token names the user (OpenID Connect).'],
      ['profile', 'The user&#39;s name.'],
      ['email', 'The user&#39;s e-mail address.'],
      ['offline_access', 'Refresh tokens, so the application stays signed in.'],
      ['invoices:read', 'Read your invoices'],
    ])
    assert.match(list, /<h3>Invoices<small class="mono">https:\/\/invoices\.example\.com\/<\/small><\/h3>/)
    assert.doesNotMatch(list, /invoices:write|Reports/)
  })

  it('refuses scopes that are unregistered or restricted, naming each and why, and creates nothing', async () => {
    const ada = new Browser(server.url)
    await ada.signIn('ada@example.com', 'ada-password-1')
    const form = await ada.go('/console/apps/new')
    const refused = await ada.submit('/console/apps', { _csrf: Browser.csrf(form), name: 'Greedy', grant: 'client_credentials', scopes: 'api read invoices:write admin', token_format: 'jwt', access_token_ttl: '600' })
    assert.equal(refused.status, 400)
    assert.equal(
      alertText(refused),
      'Scope "api" is not a scope of any registered API. Scope "read" of Reports (https://reports.example.com/) is restricted: only an operator can grant it. ' +
        'Scope "invoices:write" of Invoices (https://invoices.example.com/) is restricted: only an operator can grant it. Scope "admin" is not a scope of any registered API. ' +
        'Choose from the scopes listed on this page, or ask an operator.',
    )
    assert.doesNotMatch((await ada.go('/console')).text, /Greedy/)
    const clients = await server.server.gatehouse.clients.list({ limit: 100 })
    assert.equal(clients.some((client) => client.name === 'Greedy'), false)
  })

  it('creates an application with a ticked self-service scope; its token carries only that scope, for the API it names', async () => {
    const ada = new Browser(server.url)
    await ada.signIn('ada@example.com', 'ada-password-1')
    const form = await ada.go('/console/apps/new')
    const created = await ada.submit('/console/apps', { _csrf: Browser.csrf(form), name: 'Invoice sync', grant: 'client_credentials', scope: 'invoices:read', scopes: '', token_format: 'jwt', access_token_ttl: '600' })
    assert.equal(created.status, 200)
    const id = /id="client-id">([^<]+)</.exec(created.text)?.[1] ?? ''
    const secret = /id="client-secret">([^<]+)</.exec(created.text)?.[1] ?? ''
    const plain = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id, secret } })
    assert.deepEqual([plain.status, (plain.body as Record<string, unknown>).scope, jwtPayload(String((plain.body as Record<string, unknown>).access_token)).aud], [200, 'invoices:read', server.config.issuer])
    const targeted = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', audience: INVOICES }, basic: { id, secret } })
    const claims = jwtPayload(String((targeted.body as Record<string, unknown>).access_token))
    assert.deepEqual([targeted.status, (targeted.body as Record<string, unknown>).scope, claims.aud, claims.scope], [200, 'invoices:read', INVOICES, 'invoices:read'])
    const elsewhere = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', audience: 'https://reports.example.com/' }, basic: { id, secret } })
    assert.deepEqual([elsewhere.status, elsewhere.body], [400, { error: 'invalid_target', error_description: "The audience 'https://reports.example.com/' is not allowed for this client." }])
  })

  it("logs in only its owner through a console password application, answering another user's login like a wrong password, until an operator allows more", async () => {
    const ada = new Browser(server.url)
    await ada.signIn('ada@example.com', 'ada-password-1')
    const form = await ada.go('/console/apps/new')
    const created = await ada.submit('/console/apps', { _csrf: Browser.csrf(form), name: 'Worklist', grant: 'password', scopes: 'openid email profile invoices:read', token_format: 'jwt', access_token_ttl: '300' })
    assert.equal(created.status, 200)
    const id = /id="client-id">([^<]+)</.exec(created.text)?.[1] ?? ''
    const secret = /id="client-secret">([^<]+)</.exec(created.text)?.[1] ?? ''
    const login = (username: string, password: string) =>
      request(`${server.url}/connect/token`, { form: { grant_type: 'password', client_id: id, client_secret: secret, username, password, scope: 'openid offline_access email profile invoices:read' } })
    const strip = (answer: { status: number; body: unknown; headers: Headers }) => ({ status: answer.status, body: answer.body, cacheControl: answer.headers.get('cache-control') })

    const owner = await login('ada@example.com', 'ada-password-1')
    assert.deepEqual([owner.status, (owner.body as Record<string, unknown>).scope], [200, 'email invoices:read offline_access openid profile'])
    const other = await login('bob@example.com', 'bob-password-1')
    const wrong = await login('ada@example.com', 'not-her-password')
    assert.deepEqual(strip(other), { status: 400, body: { error: 'invalid_grant', error_description: 'invalid_username_or_password' }, cacheControl: 'no-store, no-cache, max-age=0' })
    assert.deepEqual(strip(other), strip(wrong))
    await server.server.gatehouse.audit.flush()
    const events = await server.server.gatehouse.audit.list({ limit: 5, action: 'user.authentication_failed', target: 'user:bob@example.com' })
    assert.deepEqual(events.map((event) => event.details), [{ reason: 'user not allowed for this client', client_id: id }])

    const g = server.server.gatehouse
    const { accessToken } = await createOperatorToken({ store: g.store, clients: g.clients, operators: g.operators, tokens: g.tokens, audit: g.audit, maxAccessTokenTtl: g.config.maxAccessTokenTtl })
    const adaId = (await g.users.find('ada@example.com'))?.id
    const bobId = (await g.users.find('bob@example.com'))?.id
    const patched = await request(`${server.url}/admin/v1/clients/${id}`, { method: 'PATCH', json: { allowed_users: ['ada@example.com', bobId] }, headers: { authorization: `Bearer ${accessToken}` } })
    assert.deepEqual([patched.status, (patched.body as Record<string, unknown>).allowed_users], [200, [adaId, bobId]])
    assert.equal((await login('bob@example.com', 'bob-password-1')).status, 200)
    const unknown = await request(`${server.url}/admin/v1/clients/${id}`, { method: 'PATCH', json: { allowed_users: ['nobody@example.com'] }, headers: { authorization: `Bearer ${accessToken}` } })
    assert.deepEqual([unknown.status, unknown.body], [400, { type: 'urn:gatehouse:problem:validation', title: 'Invalid request', status: 400, detail: 'allowed_users: no user nobody@example.com.' }])
  })

  describe('application types (issue 13)', () => {
    const create = async (ada: Browser, fields: Record<string, string>): Promise<Answer> => {
      const form = await ada.go('/console/apps/new')
      return ada.submit('/console/apps', { _csrf: Browser.csrf(form), name: 'App', scopes: '', token_format: 'jwt', access_token_ttl: '600', ...fields })
    }
    const idOf = (page: Answer): string => /id="client-id">([^<]+)</.exec(page.text)?.[1] ?? ''

    it('offers every application type as a labelled radio button, with the redirect URIs field, under the strict CSP', async () => {
      const ada = new Browser(server.url)
      await ada.signIn('ada@example.com', 'ada-password-1')
      const form = await ada.go('/console/apps/new')
      assert.equal(form.headers.get('content-security-policy'), "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
      const types = [...form.text.matchAll(/<label class="choice"><input type="radio" name="app_type" value="([^"]+)"[^>]*><span class="label">([^<]+)<\/span>/g)].map((match) => [match[1], match[2]])
      assert.deepEqual(types, [
        ['web', 'Server-side web app'],
        ['spa', 'Single-page app'],
        ['native', 'Native app'],
        ['device', 'Device or CLI'],
        ['machine', 'Machine to machine'],
        ['password', 'Resource owner password'],
        ['api_key', 'API key'],
      ])
      assert.match(form.text, /<label class="field" id="redirect-uris-field"><span>Redirect URIs<\/span><textarea name="redirect_uris"/)
      // No inline script or style for the CSP to refuse.
      assert.doesNotMatch(form.text, /style="|<script>|onclick=/)
    })

    it('creates a single-page app: public, no secret on the page, anyone may sign in through consent, and nothing to rotate', async () => {
      const ada = new Browser(server.url)
      await ada.signIn('ada@example.com', 'ada-password-1')
      const created = await create(ada, { name: 'Shop', app_type: 'spa', redirect_uris: 'https://shop.example.com/cb\r\n\r\n  http://127.0.0.1:5173/cb  \r\n', scope: 'openid' })
      assert.equal(created.status, 200)
      const id = idOf(created)
      assert.doesNotMatch(created.text, /client-secret|Client Secret now/)
      assert.match(created.text, /This is a public application: it has no Client Secret/)
      const client = await server.server.gatehouse.clients.get(id)
      assert.deepEqual(
        { auth: client?.tokenEndpointAuthMethod, type: client?.applicationType, grants: client?.grantTypes, redirects: client?.redirectUris, allowed: client?.allowedUsers, skip: client?.skipConsent },
        { auth: 'none', type: 'spa', grants: ['authorization_code', 'refresh_token'], redirects: ['https://shop.example.com/cb', 'http://127.0.0.1:5173/cb'], allowed: null, skip: false },
      )
      const page = await ada.go(`/console/apps/${id}`)
      assert.doesNotMatch(page.text, /\/rotate"/)
      const rotate = await ada.go(`/console/apps/${id}/rotate`, { _csrf: Browser.csrf(page) })
      assert.equal(rotate.status, 400)
      assert.match(rotate.text, /This application is public: it has no secret to rotate\./)
    })

    it('creates a native app and a device app as public clients; the device app stores the device grant URN', async () => {
      const ada = new Browser(server.url)
      await ada.signIn('ada@example.com', 'ada-password-1')
      const native = await server.server.gatehouse.clients.get(idOf(await create(ada, { app_type: 'native', redirect_uris: 'com.example.app:/callback' })))
      assert.deepEqual([native?.tokenEndpointAuthMethod, native?.applicationType, native?.grantTypes, native?.redirectUris], ['none', 'native', ['authorization_code', 'refresh_token'], ['com.example.app:/callback']])
      // The field is ignored for an application type without redirects.
      const device = await create(ada, { app_type: 'device', redirect_uris: 'https://ignored.example/cb' })
      assert.equal(device.status, 200)
      assert.match(device.text, /Device authorization \(RFC 8628\)/)
      const client = await server.server.gatehouse.clients.get(idOf(device))
      assert.deepEqual([client?.tokenEndpointAuthMethod, client?.applicationType, client?.grantTypes, client?.redirectUris, client?.allowedUsers], ['none', 'device', ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], [], null])
    })

    it('creates a server-side web app with a secret; machine-to-machine and password apps still log in only their owner', async () => {
      const ada = new Browser(server.url)
      await ada.signIn('ada@example.com', 'ada-password-1')
      const adaId = (await server.server.gatehouse.users.find('ada@example.com'))?.id
      const web = await create(ada, { app_type: 'web', redirect_uris: 'https://portal.example.com/cb' })
      assert.equal(web.status, 200)
      assert.match(web.text, /id="client-secret">[A-Za-z0-9_-]{43}</)
      const client = await server.server.gatehouse.clients.get(idOf(web))
      assert.deepEqual([client?.tokenEndpointAuthMethod, client?.applicationType, client?.allowedUsers, client?.skipConsent], ['client_secret_basic', 'web', null, false])
      for (const type of ['machine', 'password']) {
        const other = await server.server.gatehouse.clients.get(idOf(await create(ada, { app_type: type })))
        assert.deepEqual(other?.allowedUsers, [adaId], type)
      }
    })

    it('creates a machine-to-machine app with Private key JWT from a pasted public JWK: no secret shown, the key authenticates, nothing to rotate', async () => {
      const ada = new Browser(server.url)
      await ada.signIn('ada@example.com', 'ada-password-1')
      const form = await ada.go('/console/apps/new')
      assert.match(form.text, /<fieldset class="choices" id="client-auth-field"><legend>How it proves itself \(Machine to machine\)<\/legend>/)
      assert.match(form.text, /<input type="radio" name="client_auth" value="private_key_jwt"><span class="label">Private key JWT<\/span>/)
      const key = await clientKey('ES256', 'ada-job-1')
      const created = await create(ada, { name: 'Nightly job', app_type: 'machine', client_auth: 'private_key_jwt', jwks: JSON.stringify(key.publicJwk) })
      assert.equal(created.status, 200, alertText(created))
      assert.doesNotMatch(created.text, /id="client-secret"|Copy the Client Secret/)
      assert.match(created.text, /This application proves itself with its own key \(private key JWT\): it has no Client Secret\./)
      assert.match(created.text, /client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer/)
      const id = idOf(created)
      const client = await server.server.gatehouse.clients.get(id)
      assert.deepEqual([client?.tokenEndpointAuthMethod, client?.jwks, client?.jwksUri, client?.grantTypes], ['private_key_jwt', { keys: [key.publicJwk] }, null, ['client_credentials']])
      const issued = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', ...assertionFields(await signAssertion(key, { clientId: id, audience: server.url })) } })
      assert.equal(issued.status, 200, issued.text)

      const page = await ada.go(`/console/apps/${id}`)
      assert.match(page.text, /<dt>Client secret<\/dt><dd>None: private key JWT \(your own key\)<\/dd>/)
      assert.match(page.text, /<dd class="mono" id="public-keys"><div>ada-job-1<\/div><\/dd>/)
      assert.doesNotMatch(page.text, /\/rotate"/)
      const rotate = await ada.go(`/console/apps/${id}/rotate`, { _csrf: Browser.csrf(page) })
      assert.equal(rotate.status, 400)
      assert.match(rotate.text, /This application proves itself with its own key \(private key JWT\): it has no secret to rotate\./)
    })

    it('refuses a private key, a symmetric key, text that is not JSON or no key at all for Private key JWT, keeping what was typed, and creates nothing', async () => {
      const ada = new Browser(server.url)
      await ada.signIn('ada@example.com', 'ada-password-1')
      const before = (await server.server.gatehouse.clients.list({ limit: 500 })).length
      const key = await clientKey('ES256', 'k')
      for (const [jwks, message] of [
        [JSON.stringify({ ...key.publicJwk, d: 'c2VjcmV0' }), 'Public key: the key holds private key material ("d"): paste the public key only, and treat this private key as exposed.'],
        ['{"kty":"oct","k":"c2VjcmV0"}', 'Public key: the key is a symmetric key (kty "oct"): register public keys only (EC P-256, RSA or Ed25519); a shared secret key is not a public key.'],
        ['-----BEGIN PUBLIC KEY-----', 'Public key: the JWKS is not JSON: paste a JWK Set ({"keys":[…]}) or one public JWK ({"kty":…}).'],
        ['  ', 'Paste the public key (a JWK or JWK Set) for private key JWT.'],
      ] as const) {
        const refused = await create(ada, { app_type: 'machine', client_auth: 'private_key_jwt', jwks })
        assert.equal(refused.status, 400, jwks)
        assert.equal(alertText(refused), message)
        assert.match(refused.text, /name="client_auth" value="private_key_jwt" checked/)
        assert.ok(refused.text.includes(`>${jwks.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</textarea>`), jwks)
      }
      // Private key JWT belongs to Machine to machine: another type ignores the field, as it ignores redirect URIs.
      const password = await create(ada, { app_type: 'password', client_auth: 'private_key_jwt', jwks: JSON.stringify(key.publicJwk) })
      assert.equal(password.status, 200)
      assert.match(password.text, /id="client-secret">/)
      assert.equal((await server.server.gatehouse.clients.list({ limit: 500 })).length, before + 1)
    })

    it('refuses bad redirect URIs on the form with the validation messages of the API, keeping what was typed, and creates nothing', async () => {
      const ada = new Browser(server.url)
      await ada.signIn('ada@example.com', 'ada-password-1')
      const before = (await server.server.gatehouse.clients.list({ limit: 500 })).length
      for (const [type, uris, message] of [
        ['spa', 'javascript:alert(1)', 'redirect URI scheme javascript: is not allowed'],
        ['web', 'http://evil.example/cb', 'redirect URI http://evil.example/cb must use https (http only on a loopback address, RFC 8252 §7.3)'],
        ['native', 'https://a.example/cb#frag', 'redirect URI https://a.example/cb#frag must not have a fragment (RFC 6749 §3.1.2)'],
        ['web', '/cb', 'redirect URI "/cb" is not an absolute URI'],
        ['spa', '', 'the authorization_code grant needs at least one redirect URI'],
      ] as const) {
        const refused = await create(ada, { app_type: type, redirect_uris: uris })
        assert.equal(refused.status, 400, uris)
        assert.equal(alertText(refused), message)
        assert.ok(refused.text.includes(`spellcheck="false" autocapitalize="off" placeholder="https://app.example.com/callback">${uris.replace(/"/g, '&quot;')}</textarea>`), uris)
        assert.match(refused.text, new RegExp(`value="${type}" data-redirect-uris="yes" checked`))
      }
      const unknown = await create(ada, { app_type: 'everything' })
      assert.deepEqual([unknown.status, alertText(unknown)], [400, 'Choose an application type.'])
      assert.equal((await server.server.gatehouse.clients.list({ limit: 500 })).length, before)
    })
  })
})
