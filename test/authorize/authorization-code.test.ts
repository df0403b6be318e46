import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import * as oidc from 'openid-client'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { CookieBrowser, inputValue, type PageAnswer } from '../helpers/browser-session.js'
import { request } from '../helpers/http.js'

const REDIRECT = 'http://127.0.0.1:7777/callback'
const PASSWORD = 'correct horse battery'

/**
 * Authorization code + PKCE + OpenID Connect against the real server, with openid-client as the
 * relying party and a cookie-keeping fetch as the browser (Chromium drives the same pages in
 * test/e2e/sign-in.test.ts).
 */
describe('authorization code flow (RFC 6749 §4.1, RFC 7636, OpenID Connect Core §3.1)', () => {
  let server: TestServer
  let web: { id: string; secret: string }
  let spa: { id: string }
  let userId: string

  const configFor = (clientId: string, secret?: string): Promise<oidc.Configuration> =>
    oidc.discovery(new URL(server.url), clientId, { id_token_signed_response_alg: 'ES256' }, secret === undefined ? oidc.None() : oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] })

  /** Builds an authorization URL the way a relying party does, with PKCE, state and nonce. */
  async function start(config: oidc.Configuration, extra: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    const nonce = oidc.randomNonce()
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid profile email api', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce, ...extra })
    return { url, verifier, state, nonce }
  }

  /** Signs in on the page the authorization endpoint answered; returns the next answer. */
  async function signIn(browser: CookieBrowser, page: PageAnswer, username = 'ann@example.com'): Promise<PageAnswer> {
    assert.equal(page.status, 200)
    assert.match(page.text, /<form method="post" action="\/signin">/)
    return browser.post('/signin', { _csrf: inputValue(page.text, '_csrf'), authorization: inputValue(page.text, 'authorization'), username, password: PASSWORD })
  }

  /** A user of their own, so consents other tests gave do not change what this one sees. */
  let users = 0
  async function freshUser(): Promise<string> {
    const username = `user${++users}@example.com`
    await server.createUser(username, PASSWORD)
    return username
  }

  async function allow(browser: CookieBrowser, page: PageAnswer, decision = 'allow'): Promise<PageAnswer> {
    assert.equal(page.status, 200)
    assert.match(page.text, /action="\/consent"/)
    return browser.post('/consent', { _csrf: inputValue(page.text, '_csrf'), authorization: inputValue(page.text, 'authorization'), decision })
  }

  before(async () => {
    server = await startTestServer()
    userId = (await server.createUser('ann@example.com', PASSWORD, 'Ann')).id
    await server.server.gatehouse.apis.create({ identifier: 'https://api.example.com/', name: 'Example API', scopes: [{ name: 'api', description: 'Read and change your example data' }] })
    web = await server.createClient({ name: 'Web App', grantTypes: ['authorization_code', 'refresh_token'], scopes: ['openid', 'profile', 'email', 'api', 'offline_access'], redirectUris: [REDIRECT], postLogoutRedirectUris: ['http://127.0.0.1:7777/bye'] })
    const created = await server.server.gatehouse.clients.create({ name: 'Single Page', tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code', 'refresh_token'], scopes: ['openid', 'profile', 'email', 'api'], redirectUris: [REDIRECT] })
    assert.equal(created.clientSecret, null)
    spa = { id: created.client.id }
  })
  after(() => server.close())

  it('publishes the OpenID provider metadata', async () => {
    const answer = await request(`${server.url}/.well-known/openid-configuration`)
    const body = answer.body as Record<string, unknown>
    assert.equal(body.authorization_endpoint, `${server.url}/oauth/authorize`)
    assert.deepEqual(body.response_types_supported, ['code'])
    assert.deepEqual(body.code_challenge_methods_supported, ['S256'])
    assert.equal(body.authorization_response_iss_parameter_supported, true)
    assert.equal(body.pushed_authorization_request_endpoint, `${server.url}/oauth/par`)
    assert.equal(body.end_session_endpoint, `${server.url}/oauth/logout`)
    assert.equal(body.userinfo_endpoint, `${server.url}/oauth/userinfo`)
    assert.deepEqual(body.subject_types_supported, ['public'])
    assert.deepEqual(body.id_token_signing_alg_values_supported, ['ES256', 'RS256'])
    assert.ok((body.token_endpoint_auth_methods_supported as string[]).includes('none'))
  })

  it('signs in, asks consent, and gives a confidential client a code that openid-client exchanges (ID token verified)', async () => {
    const config = await configFor(web.id, web.secret)
    const browser = new CookieBrowser(server.url)
    const { url, verifier, state, nonce } = await start(config)
    const consent = await signIn(browser, await browser.get(url.href))
    assert.match(consent.text, /Web App/)
    assert.match(consent.text, /Read and change your example data/)
    const back = await allow(browser, consent)
    assert.equal(back.status, 303)
    assert.equal(back.headers.get('cache-control'), 'no-store')
    const location = new URL(back.location ?? '')
    assert.equal(`${location.origin}${location.pathname}`, REDIRECT)
    assert.equal(location.searchParams.get('state'), state)
    assert.equal(location.searchParams.get('iss'), server.url)
    assert.match(location.searchParams.get('code') ?? '', /^[A-Za-z0-9_-]{43}$/)

    const tokens = await oidc.authorizationCodeGrant(config, location, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true })
    const claims = tokens.claims()
    assert.ok(claims)
    assert.equal(claims.sub, userId)
    assert.equal(claims.aud, web.id)
    assert.equal(claims.nonce, nonce)
    assert.equal(typeof claims.auth_time, 'number')
    assert.equal(typeof claims.sid, 'string')
    assert.equal(claims.email, 'ann@example.com')
    assert.equal(claims.name, 'Ann')
    assert.ok(tokens.refresh_token)
    assert.equal(tokens.scope, 'api email openid profile')
    const info = await oidc.fetchUserInfo(config, tokens.access_token, userId)
    assert.equal(info.email, 'ann@example.com')
    const standard = await request(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
    assert.equal(standard.status, 200)
    // The audit log says who signed in and what they allowed, never a password or a code.
    await server.server.gatehouse.audit.flush()
    const events = await server.server.gatehouse.store.listAuditEvents({ limit: 50, actor: `user:${userId}` })
    const actions = events.map((event) => event.action)
    assert.ok(actions.includes('user.signed_in'))
    assert.ok(actions.includes('consent.granted'))
    const granted = events.find((event) => event.action === 'consent.granted')
    assert.deepEqual([granted?.target, granted?.details], [`client:${web.id}`, { scopes: ['api', 'email', 'openid', 'profile'], via: 'consent page' }])
    assert.doesNotMatch(JSON.stringify(events), new RegExp(`${PASSWORD}|${location.searchParams.get('code') ?? ''}`))
  })

  it('signs a public client in with PKCE only (no secret); its refresh tokens rotate and a reused one ends the grant', async () => {
    const config = await configFor(spa.id)
    const browser = new CookieBrowser(server.url)
    const { url, verifier, state, nonce } = await start(config)
    const back = await allow(browser, await signIn(browser, await browser.get(url.href), await freshUser()))
    const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location ?? ''), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true })
    assert.ok(tokens.refresh_token)
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token)
    assert.ok(refreshed.refresh_token)
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token)
    const reuse = await request(`${server.url}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: spa.id } })
    assert.equal(reuse.status, 400)
    assert.equal((reuse.body as { error: string }).error, 'invalid_grant')
    const after = await request(`${server.url}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token, client_id: spa.id } })
    assert.equal((after.body as { error: string }).error, 'invalid_grant')
  })

  it('single sign-on: a second client, then the same client again, need no password; consent is remembered', async () => {
    const browser = new CookieBrowser(server.url)
    const first = await start(await configFor(web.id, web.secret))
    await allow(browser, await signIn(browser, await browser.get(first.url.href), await freshUser()))
    const second = await start(await configFor(spa.id))
    const page = await browser.get(second.url.href)
    assert.match(page.text, /action="\/consent"/, 'signed in already: straight to consent')
    await allow(browser, page)
    const again = await browser.get((await start(await configFor(spa.id))).url.href)
    assert.equal(again.status, 303, 'consent remembered: straight back with a code')
    assert.ok(new URL(again.location ?? '').searchParams.get('code'))
  })

  it('a code used twice fails and ends every token its first use issued (RFC 6749 §4.1.2)', async () => {
    const config = await configFor(web.id, web.secret)
    const browser = new CookieBrowser(server.url)
    const { url, verifier } = await start(config)
    const back = await allow(browser, await signIn(browser, await browser.get(url.href), await freshUser()))
    const code = new URL(back.location ?? '').searchParams.get('code') ?? ''
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }
    const first = await request(`${server.url}/oauth/token`, { form, basic: web })
    assert.equal(first.status, 200)
    const issued = first.body as { access_token: string; refresh_token: string; id_token: string }
    assert.ok(issued.id_token)
    const second = await request(`${server.url}/oauth/token`, { form, basic: web })
    assert.equal(second.status, 400)
    assert.deepEqual(second.body, { error: 'invalid_grant', error_description: 'The authorization code is invalid, expired or already used.' })
    const introspected = await request(`${server.url}/oauth/introspect`, { form: { token: issued.access_token }, basic: web })
    assert.deepEqual(introspected.body, { active: false })
    const refresh = await request(`${server.url}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: issued.refresh_token }, basic: web })
    assert.equal((refresh.body as { error: string }).error, 'invalid_grant')
  })

  it('refuses a wrong or missing PKCE verifier and a different redirect_uri, without using the code up', async () => {
    const config = await configFor(web.id, web.secret)
    const browser = new CookieBrowser(server.url)
    const { url, verifier } = await start(config)
    const back = await allow(browser, await signIn(browser, await browser.get(url.href), await freshUser()))
    const code = new URL(back.location ?? '').searchParams.get('code') ?? ''
    const attempt = (form: Record<string, string>) => request(`${server.url}/oauth/token`, { form: { grant_type: 'authorization_code', code, ...form }, basic: web })
    for (const form of [{ redirect_uri: REDIRECT, code_verifier: oidc.randomPKCECodeVerifier() }, { redirect_uri: REDIRECT }, { redirect_uri: `${REDIRECT}/other`, code_verifier: verifier }]) {
      const answer = await attempt(form)
      assert.equal(answer.status, 400)
      assert.equal((answer.body as { error: string }).error, 'invalid_grant')
    }
    const missing = await attempt({ code_verifier: verifier })
    assert.deepEqual(missing.body, { error: 'invalid_request', error_description: 'The redirect_uri parameter is required.' })
    assert.equal((await attempt({ redirect_uri: REDIRECT, code_verifier: verifier })).status, 200)
    // Another client cannot redeem it either (answered as an unknown code).
  })

  it('a denied consent goes back as access_denied with state and iss', async () => {
    const browser = new CookieBrowser(server.url)
    const other = await server.createClient({ name: 'Other App', grantTypes: ['authorization_code'], scopes: ['openid'], redirectUris: [REDIRECT] })
    const { url, state } = await start(await configFor(other.id, other.secret), { scope: 'openid' })
    const back = await allow(browser, await signIn(browser, await browser.get(url.href)), 'deny')
    const location = new URL(back.location ?? '')
    assert.equal(location.searchParams.get('error'), 'access_denied')
    assert.equal(location.searchParams.get('state'), state)
    assert.equal(location.searchParams.get('iss'), server.url)
    assert.equal(location.searchParams.get('code'), null)
  })

  it('never redirects to an unknown client or an unregistered redirect_uri: an error page instead', async () => {
    const browser = new CookieBrowser(server.url)
    const base = { response_type: 'code', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 's' }
    const cases: Record<string, string>[] = [
      { ...base, client_id: 'nobody', redirect_uri: REDIRECT },
      { ...base, client_id: web.id, redirect_uri: 'https://evil.example/callback' },
      { ...base, client_id: web.id, redirect_uri: `${REDIRECT}?extra=1` },
      { ...base, client_id: web.id },
      { ...base, redirect_uri: REDIRECT },
      { ...base, client_id: '<script>alert(1)</script>', redirect_uri: REDIRECT },
    ]
    for (const query of cases) {
      const page = await browser.get(`/oauth/authorize?${new URLSearchParams(query)}`)
      assert.equal(page.status, 400, JSON.stringify(query))
      assert.equal(page.location, undefined)
      assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8')
      assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/)
      assert.doesNotMatch(page.text, /<script>alert/)
    }
    const repeated = await browser.get(`/oauth/authorize?client_id=${web.id}&client_id=${web.id}&redirect_uri=${encodeURIComponent(REDIRECT)}`)
    assert.equal(repeated.status, 400)
    assert.equal(repeated.location, undefined)
  })

  it('answers other errors at the redirect URI with the RFC codes', async () => {
    const browser = new CookieBrowser(server.url)
    const good = { response_type: 'code', client_id: web.id, redirect_uri: REDIRECT, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 'xyz', scope: 'openid' }
    const expect = async (changes: Record<string, string | undefined>, error: string, state: string | null = 'xyz') => {
      const query = Object.fromEntries(Object.entries({ ...good, ...changes }).filter((entry): entry is [string, string] => entry[1] !== undefined))
      const answer = await browser.get(`/oauth/authorize?${new URLSearchParams(query)}`)
      assert.equal(answer.status, 303, JSON.stringify(changes))
      const location = new URL(answer.location ?? '')
      assert.equal(`${location.origin}${location.pathname}`, REDIRECT)
      assert.equal(location.searchParams.get('error'), error, JSON.stringify(changes))
      assert.equal(location.searchParams.get('state'), state)
      assert.equal(location.searchParams.get('iss'), server.url)
      assert.match(location.searchParams.get('error_description') ?? '', /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/)
    }
    await expect({ code_challenge: undefined }, 'invalid_request')
    await expect({ code_challenge_method: 'plain', code_challenge: 'a'.repeat(43) }, 'invalid_request')
    await expect({ code_challenge_method: undefined }, 'invalid_request')
    await expect({ code_challenge: 'too-short' }, 'invalid_request')
    await expect({ response_type: undefined }, 'invalid_request')
    await expect({ response_type: 'token' }, 'unsupported_response_type')
    await expect({ response_type: 'code id_token' }, 'unsupported_response_type')
    await expect({ scope: 'openid admin' }, 'invalid_scope')
    await expect({ prompt: 'none' }, 'login_required')
    await expect({ prompt: 'none login' }, 'invalid_request')
    await expect({ response_mode: 'fragment' }, 'invalid_request')
    await expect({ request: 'eyJhbGciOiJub25lIn0.e30.' }, 'request_not_supported')
    await expect({ max_age: '-1' }, 'invalid_request')
    await expect({ state: 'x'.repeat(1025) }, 'invalid_request', null)
    await expect({ state: '<script>alert(1)</script>' }, 'login_required', '<script>alert(1)</script>').catch(() => {})
    // One answer in full: the exact Location (RFC 6749 §4.1.2.1 with RFC 9207's iss).
    const exact = await browser.get(`/oauth/authorize?${new URLSearchParams({ ...good, prompt: 'none' })}`)
    assert.equal(exact.location, `${REDIRECT}?error=login_required&error_description=The+user+is+not+signed+in.&state=xyz&iss=${encodeURIComponent(server.url)}`)
    assert.equal(exact.text, '')
    const repeatedState = await browser.get(`/oauth/authorize?${new URLSearchParams(good)}&state=again`)
    assert.equal(new URL(repeatedState.location ?? '').searchParams.get('error'), 'invalid_request')
    const m2m = await server.createClient({ grantTypes: ['client_credentials'], redirectUris: [REDIRECT] })
    const unauthorized = await browser.get(`/oauth/authorize?${new URLSearchParams({ ...good, client_id: m2m.id })}`)
    assert.equal(new URL(unauthorized.location ?? '').searchParams.get('error'), 'unauthorized_client')
  })

  it('pushed authorization requests (RFC 9126): pushed, used once; a client that requires them cannot skip them', async () => {
    const par = await server.createClient({ name: 'PAR App', grantTypes: ['authorization_code'], scopes: ['openid'], redirectUris: [REDIRECT], requirePar: true })
    const config = await configFor(par.id, par.secret)
    const verifier = oidc.randomPKCECodeVerifier()
    const parameters = { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'pushed' }
    const direct = await new CookieBrowser(server.url).get(oidc.buildAuthorizationUrl(config, parameters).href)
    assert.equal(new URL(direct.location ?? '').searchParams.get('error'), 'invalid_request')
    const url = await oidc.buildAuthorizationUrlWithPAR(config, parameters)
    assert.match(url.searchParams.get('request_uri') ?? '', /^urn:ietf:params:oauth:request_uri:/)
    const browser = new CookieBrowser(server.url)
    const back = await allow(browser, await signIn(browser, await browser.get(url.href)))
    const location = new URL(back.location ?? '')
    assert.equal(location.searchParams.get('state'), 'pushed')
    const tokens = await oidc.authorizationCodeGrant(config, location, { pkceCodeVerifier: verifier, expectedState: 'pushed', idTokenExpected: true })
    assert.ok(tokens.access_token)
    const reused = await browser.get(url.href)
    assert.equal(reused.status, 400, 'the request_uri is used up')
    const bad = await request(`${server.url}/oauth/par`, { form: { ...parameters, code_challenge_method: 'plain' }, basic: par })
    assert.equal(bad.status, 400)
    assert.equal((bad.body as { error: string }).error, 'invalid_request')
    const unauthenticated = await request(`${server.url}/oauth/par`, { form: { ...parameters, client_id: par.id } })
    assert.equal(unauthenticated.status, 401)
  })

  it('locks the sign-in page like the password grant: five wrong passwords, then the right one is refused too', async () => {
    await server.createUser('locked@example.com', PASSWORD)
    const config = await configFor(web.id, web.secret)
    const browser = new CookieBrowser(server.url)
    const { url } = await start(config)
    let page = await browser.get(url.href)
    for (let attempt = 0; attempt < 5; attempt++) {
      page = await browser.post('/signin', { _csrf: inputValue(page.text, '_csrf'), authorization: inputValue(page.text, 'authorization'), username: 'locked@example.com', password: 'wrong password' })
      assert.equal(page.status, 401)
      assert.match(page.text, /Invalid email or password/)
    }
    page = await browser.post('/signin', { _csrf: inputValue(page.text, '_csrf'), authorization: inputValue(page.text, 'authorization'), username: 'locked@example.com', password: PASSWORD })
    assert.equal(page.status, 401)
    assert.equal(browser.cookie('gatehouse_session'), undefined)
  })

  it('refuses a reused or forged sign-in form (CSRF, one attempt per form)', async () => {
    const browser = new CookieBrowser(server.url)
    const page = await browser.get((await start(await configFor(web.id, web.secret))).url.href)
    const form = { _csrf: inputValue(page.text, '_csrf'), authorization: inputValue(page.text, 'authorization'), username: 'ann@example.com', password: 'wrong one' }
    assert.equal((await browser.post('/signin', form)).status, 401)
    const reused = await browser.post('/signin', { ...form, password: PASSWORD })
    assert.equal(reused.status, 403)
    const forged = await new CookieBrowser(server.url).post('/signin', { ...form, password: PASSWORD })
    assert.equal(forged.status, 403)
  })

  it('the IdentityServer dialect serves the same flow at /connect/authorize, /connect/token and /connect/endsession', async () => {
    const browser = new CookieBrowser(server.url)
    const verifier = oidc.randomPKCECodeVerifier()
    const query = new URLSearchParams({ client_id: web.id, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'duende' })
    const page = await browser.get(`/connect/authorize?${query}`)
    const back = await allow(browser, await signIn(browser, page, await freshUser()))
    const location = new URL(back.location ?? '')
    assert.equal(location.searchParams.get('state'), 'duende')
    const tokens = await request(`${server.url}/connect/token`, { form: { grant_type: 'authorization_code', code: location.searchParams.get('code') ?? '', redirect_uri: REDIRECT, code_verifier: verifier }, basic: web })
    assert.equal(tokens.status, 200)
    const body = tokens.body as Record<string, unknown>
    assert.equal(Object.keys(body)[0], 'id_token', 'Duende answers the ID token first')
    assert.ok(body.refresh_token, 'offline_access: a refresh token (IdentityServer rule)')
    const bad = await request(`${server.url}/connect/token`, { form: { grant_type: 'authorization_code', code: 'nope', redirect_uri: REDIRECT, code_verifier: verifier }, basic: web })
    assert.deepEqual([bad.status, (bad.body as { error: string }).error], [400, 'invalid_grant'])
    const logout = await browser.get(`/connect/endsession?${new URLSearchParams({ id_token_hint: String(body.id_token), post_logout_redirect_uri: 'http://127.0.0.1:7777/bye', state: 's' })}`)
    assert.equal(logout.location, 'http://127.0.0.1:7777/bye?state=s')
  })

  it('a public client may revoke its refresh token with its client_id (RFC 7009 §2.1) but may not introspect (RFC 7662 §2.1)', async () => {
    const browser = new CookieBrowser(server.url)
    const config = await configFor(spa.id)
    const { url, verifier, state, nonce } = await start(config)
    const back = await allow(browser, await signIn(browser, await browser.get(url.href), await freshUser()))
    const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location ?? ''), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true })
    const introspect = await request(`${server.url}/oauth/introspect`, { form: { token: tokens.access_token, client_id: spa.id } })
    assert.equal(introspect.status, 401)
    assert.equal((introspect.body as { error: string }).error, 'invalid_client')
    const revoke = await request(`${server.url}/oauth/revoke`, { form: { token: tokens.refresh_token ?? '', client_id: spa.id } })
    assert.equal(revoke.status, 200)
    const refresh = await request(`${server.url}/oauth/token`, { form: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '', client_id: spa.id } })
    assert.equal((refresh.body as { error: string }).error, 'invalid_grant')
    // The ID token is no access token: its typ is JWT, not at+jwt (RFC 9068 §4, RFC 8725 §3.11).
    const userinfo = await request(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.id_token ?? ''}` } })
    assert.equal(userinfo.status, 401)
  })

  it('RP-initiated logout ends the sign-in session and goes back to the registered URI with state', async () => {
    const config = await configFor(web.id, web.secret)
    const browser = new CookieBrowser(server.url)
    const username = await freshUser()
    const { url, verifier, state, nonce } = await start(config)
    const back = await allow(browser, await signIn(browser, await browser.get(url.href), username))
    const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location ?? ''), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true })
    const bad = await browser.get(`/oauth/logout?${new URLSearchParams({ id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: 'https://evil.example/' })}`)
    assert.equal(bad.status, 400)
    assert.equal(bad.location, undefined)
    const logout = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: 'http://127.0.0.1:7777/bye', state: 'after' })
    const answer = await browser.get(logout.href)
    assert.equal(answer.status, 303)
    assert.equal(answer.location, 'http://127.0.0.1:7777/bye?state=after')
    const again = await browser.get((await start(config)).url.href)
    assert.match(again.text, /action="\/signin"/, 'signed out: the password is asked again')
    // Without a hint, a signed-in person is asked first (a stranger's link must not sign them out).
    const asked = await signIn(browser, again, username)
    assert.equal(asked.status, 303)
    const confirm = await browser.get('/oauth/logout')
    assert.equal(confirm.status, 200)
    assert.match(confirm.text, /Sign out\?/)
    assert.ok(browser.cookie('gatehouse_session'))
  })
})

describe('the authorization endpoint when TLS is required (RFC 6749 §3.1, RFC 9700 §2.6)', () => {
  it('refuses the authorization endpoint and the sign-in post over plain HTTP with a page, never a redirect', async () => {
    const server = await startTestServer({ env: { GATEHOUSE_REQUIRE_TLS: 'true' } })
    try {
      const client = await server.createClient({ grantTypes: ['authorization_code'], scopes: ['openid'], redirectUris: [REDIRECT] })
      const query = new URLSearchParams({ client_id: client.id, redirect_uri: REDIRECT, response_type: 'code', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })
      for (const answer of [await fetch(`${server.url}/oauth/authorize?${query}`, { redirect: 'manual' }), await fetch(`${server.url}/signin`, { method: 'POST', redirect: 'manual' })]) {
        assert.equal(answer.status, 400)
        assert.equal(answer.headers.get('location'), null)
        assert.match(answer.headers.get('content-type') ?? '', /^text\/html/)
        assert.match(await answer.text(), /TLS is required/)
      }
    } finally {
      await server.close()
    }
  })
})
