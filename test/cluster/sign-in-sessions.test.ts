import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createPostgresTestDatabase, type TestDatabase } from '../helpers/database.js'
import { CookieBrowser, inputValue } from '../helpers/browser-session.js'
import { request } from '../helpers/http.js'
import { POSTGRES_URL, skipWithoutPostgres } from '../helpers/postgres.js'
import type { ServerProcess } from '../helpers/processes.js'
import { cliOn, spawnTwoInstances, stopTwoInstances, TWO_INSTANCE_ISSUER } from '../helpers/two-instances.js'

const PASSWORD = 'correct horse battery staple'
const REDIRECT = 'https://app.example.com/callback'

/**
 * Two server processes on one PostgreSQL database behind one issuer: a person signs in on one,
 * consents on the other, the code is redeemed on the first, and signing out on the second ends
 * the session on the first. Nothing of the flow lives in one process's memory.
 */
describe('sign-in sessions, consents and codes across two instances', { skip: await skipWithoutPostgres() }, () => {
  let database: TestDatabase
  let a: ServerProcess
  let b: ServerProcess
  let client: { id: string; secret: string }
  const cli = cliOn(() => database, PASSWORD)

  before(async () => {
    database = await createPostgresTestDatabase(POSTGRES_URL)
    await cli('migrate')
    const created = await cli('clients', 'create', '--name', 'Two instances', '--app-type', 'web', '--grant', 'authorization_code', '--grant', 'refresh_token', '--redirect-uri', REDIRECT, '--post-logout-redirect-uri', 'https://app.example.com/', '--scope', 'openid email')
    client = { id: String(created.client_id), secret: String(created.client_secret) }
    await cli('users', 'create', '--username', 'pat@example.com', '--password-stdin')
    ;[a, b] = await spawnTwoInstances(database)
  })
  after(() => stopTwoInstances([a, b], database))

  test('sign in on A, consent on B, redeem on A; sign out on B, and A asks for the password again', async () => {
    const browser = new CookieBrowser(a.url)
    const verifier = randomBytes(32).toString('base64url')
    const query = new URLSearchParams({ response_type: 'code', client_id: client.id, redirect_uri: REDIRECT, scope: 'openid email', state: 'two', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' })
    const page = await browser.get(`${a.url}/oauth/authorize?${query}`)
    assert.equal(page.status, 200)
    const consent = await browser.post(`${a.url}/signin`, { _csrf: inputValue(page.text, '_csrf'), authorization: inputValue(page.text, 'authorization'), username: 'pat@example.com', password: PASSWORD })
    assert.equal(consent.status, 200)
    assert.ok(browser.cookie('gatehouse_session'))

    // B knows the session A started (it is in the database), and the consent page A rendered posts to B.
    const onB = await browser.get(`${b.url}/oauth/authorize?${query}`)
    assert.match(onB.text, /action="\/consent"/, 'B sees the session: no sign-in page')
    const back = await browser.post(`${b.url}/consent`, { _csrf: inputValue(consent.text, '_csrf'), authorization: inputValue(consent.text, 'authorization'), decision: 'allow' })
    assert.equal(back.status, 303)
    const location = new URL(back.location ?? '')
    assert.equal(location.searchParams.get('iss'), TWO_INSTANCE_ISSUER)
    const tokens = await request(`${a.url}/oauth/token`, { form: { grant_type: 'authorization_code', code: location.searchParams.get('code') ?? '', redirect_uri: REDIRECT, code_verifier: verifier }, basic: client })
    assert.equal(tokens.status, 200, tokens.text)
    const { id_token: idToken } = tokens.body as { id_token: string }
    // A second redemption on B fails: the code is used up in the shared store.
    const replay = await request(`${b.url}/oauth/token`, { form: { grant_type: 'authorization_code', code: location.searchParams.get('code') ?? '', redirect_uri: REDIRECT, code_verifier: verifier }, basic: client })
    assert.equal((replay.body as { error: string }).error, 'invalid_grant')

    const cookie = browser.cookie('gatehouse_session') ?? ''
    const logout = await browser.get(`${b.url}/oauth/logout?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: 'https://app.example.com/' })}`)
    assert.equal(logout.location, 'https://app.example.com/')
    // A copy of the cookie (B's answer cleared it in this browser) is no good on A either.
    browser.setCookie('gatehouse_session', cookie)
    const after = await browser.get(`${a.url}/oauth/authorize?${query}`)
    assert.match(after.text, /action="\/signin"/, 'the session ended on A too')
  })
})
