import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { finishAuthorization, startAuthorization, TokenClientError, verifyIdToken, type AuthorizationCodeOptions } from '../../src/sdk/client.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { CookieBrowser, inputValue } from '../helpers/browser-session.js'

const REDIRECT = 'http://127.0.0.1:7777/callback'

/** gatehouse/client's sign-in helpers against the real server; the cookie browser plays the person. */
describe('gatehouse/client: startAuthorization / finishAuthorization / verifyIdToken', () => {
  let server: TestServer
  let confidential: AuthorizationCodeOptions
  let publicApp: AuthorizationCodeOptions

  /** The person signs in and allows; returns the callback URL the browser lands on. */
  async function personSignsIn(url: string): Promise<string> {
    const browser = new CookieBrowser(server.url)
    const page = await browser.get(url)
    const consent = await browser.post('/signin', { _csrf: inputValue(page.text, '_csrf'), authorization: inputValue(page.text, 'authorization'), username: 'sam@example.com', password: 'correct horse battery' })
    const back = consent.status === 303 ? consent : await browser.post('/consent', { _csrf: inputValue(consent.text, '_csrf'), authorization: inputValue(consent.text, 'authorization'), decision: 'allow' })
    return back.location ?? ''
  }

  before(async () => {
    server = await startTestServer()
    await server.createUser('sam@example.com', 'correct horse battery', 'Sam')
    const web = await server.createClient({ name: 'SDK web', grantTypes: ['authorization_code', 'refresh_token'], scopes: ['openid', 'email'], redirectUris: [REDIRECT] })
    confidential = { issuer: server.url, clientId: web.id, clientSecret: web.secret, redirectUri: REDIRECT, scope: 'openid email' }
    const spa = await server.server.gatehouse.clients.create({ name: 'SDK spa', tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code'], scopes: ['openid'], redirectUris: [REDIRECT], signingAlg: 'RS256' })
    publicApp = { issuer: server.url, clientId: spa.client.id, redirectUri: REDIRECT, scope: ['openid'] }
  })
  after(() => server.close())

  it('signs in a confidential client and verifies its ES256 ID token', async () => {
    const pending = await startAuthorization(confidential)
    const url = new URL(pending.url)
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256')
    const signedIn = await finishAuthorization(confidential, await personSignsIn(pending.url), pending)
    assert.equal(signedIn.claims?.email, 'sam@example.com')
    assert.equal(signedIn.claims?.nonce, pending.nonce)
    assert.ok(signedIn.refreshToken)
  })

  it('signs in a public client (no secret) with an RS256 ID token', async () => {
    const pending = await startAuthorization(publicApp)
    const signedIn = await finishAuthorization(publicApp, await personSignsIn(pending.url), pending)
    assert.equal(typeof signedIn.claims?.sub, 'string')
    assert.equal(signedIn.claims?.aud, publicApp.clientId)
  })

  it('refuses a callback with another state, another issuer, or an error; and an ID token for another client or nonce', async () => {
    const pending = await startAuthorization(confidential)
    const callback = new URL(await personSignsIn(pending.url))
    const tampered = new URL(callback)
    tampered.searchParams.set('state', 'forged')
    await assert.rejects(finishAuthorization(confidential, tampered, pending), (error: unknown) => error instanceof TokenClientError && error.code === 'invalid_response')
    const mixUp = new URL(callback)
    mixUp.searchParams.set('iss', 'https://evil.example')
    await assert.rejects(finishAuthorization(confidential, mixUp, pending), /expected issuer/)
    await assert.rejects(finishAuthorization(confidential, `${REDIRECT}?error=access_denied&state=${pending.state}&iss=${encodeURIComponent(server.url)}`, pending), (error: unknown) => error instanceof TokenClientError && error.code === 'access_denied')
    const signedIn = await finishAuthorization(confidential, callback, pending)
    await assert.rejects(verifyIdToken(confidential, signedIn.idToken ?? '', { nonce: 'other' }), /nonce/)
    await assert.rejects(verifyIdToken({ ...confidential, clientId: 'someone-else' }, signedIn.idToken ?? ''), /another client/)
    const [header, payload] = (signedIn.idToken ?? '').split('.')
    await assert.rejects(verifyIdToken(confidential, `${header}.${payload}.${'A'.repeat(86)}`), /signature/)
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`
    await assert.rejects(verifyIdToken(confidential, none), /not a JWS|not accepted/)
  })
})
