import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { clientKey, signAssertion } from '../helpers/assertions.js'
import { Browser, alertText, type Answer } from '../helpers/console-browser.js'
import { apiKeyTokenRequest, LANGUAGES, snippet, tokenRequest, type SnippetRequest } from '../../src/snippets/index.js'

const run = promisify(execFile)
const idOf = (page: Answer): string => /id="client-id">([^<]+)</.exec(page.text)?.[1] ?? ''
const secretOf = (page: Answer, id = 'client-secret'): string => new RegExp(`id="${id}">([^<]+)<`).exec(page.text)?.[1] ?? ''
const unescape = (text: string): string => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&')

/** Every language's block of "Get a token", as the page shows it (unescaped), by language id. */
function snippetsOn(page: Answer): Record<string, string> {
  const found: Record<string, string> = {}
  for (const match of page.text.matchAll(/<pre class="code value" id="snippet-([a-z]+)">([^<]*)<\/pre>/g)) found[match[1] ?? ''] = unescape(match[2] ?? '')
  return found
}

/** The page shows, for every language, exactly what the generator writes for this request; curl alone is visible without the script. */
function assertGenerated(page: Answer, request: SnippetRequest): string {
  const shown = snippetsOn(page)
  assert.deepEqual(Object.keys(shown), LANGUAGES.map((entry) => entry.id))
  for (const entry of LANGUAGES) assert.equal(shown[entry.id], snippet(request, entry.id), entry.id)
  assert.match(page.text, /<div class="secret snippet" data-language="curl"><pre/)
  assert.match(page.text, /<div class="secret snippet" data-language="python" hidden><pre/)
  return shown.curl ?? ''
}

/** Runs a curl snippet as a developer pastes it into a shell, and reads the JSON answer. */
async function runCurl(command: string): Promise<Record<string, unknown>> {
  const { stdout } = await run('sh', ['-c', `${command} --silent --show-error`], { timeout: 30_000 })
  return JSON.parse(stdout) as Record<string, unknown>
}

describe("the console's \"Get a token\" is generated, and runs as shown", () => {
  let server: TestServer
  let issuer: string

  before(async () => {
    server = await startTestServer()
    issuer = server.config.issuer
    await server.createUser('ada@example.com', 'ada-password-1')
    await server.server.gatehouse.apis.create({ identifier: 'https://orders.example.com/', name: 'Orders', scopes: [{ name: 'orders:read', description: 'Read your orders', selfService: true }] })
  })
  after(() => server.close())

  const create = async (fields: Record<string, string>): Promise<{ ada: Browser; shown: Answer }> => {
    const ada = new Browser(server.url)
    await ada.signIn('ada@example.com', 'ada-password-1')
    const form = await ada.go('/console/apps/new')
    // `scope` is a ticked box: an empty one is not sent at all.
    const posted = Object.fromEntries(Object.entries({ _csrf: Browser.csrf(form), name: 'App', scope: 'orders:read', scopes: '', token_format: 'jwt', access_token_ttl: '600', ...fields }).filter(([name, value]) => name !== 'scope' || value !== ''))
    const shown = await ada.submit('/console/apps', posted)
    assert.equal(shown.status, 200, alertText(shown))
    return { ada, shown }
  }

  it('machine to machine with a secret: the curl shown once gets a token; the app page shows the same request with a placeholder for the secret', async () => {
    const { ada, shown } = await create({ app_type: 'machine' })
    const [id, secret] = [idOf(shown), secretOf(shown)]
    const curl = assertGenerated(shown, tokenRequest({ clientId: id, clientSecret: secret, authMethod: 'client_secret_basic', tokenEndpoint: `${issuer}/oauth/token` }))
    const answer = await runCurl(curl)
    assert.deepEqual([answer.token_type, answer.scope, answer.expires_in], ['Bearer', 'orders:read', 600])

    // The app page keeps no secret: its sample has a placeholder a person can replace (a form field, not inside Basic's base64).
    const page = await ada.go(`/console/apps/${id}`)
    const sample = assertGenerated(page, tokenRequest({ clientId: id, authMethod: 'client_secret_post', tokenEndpoint: `${issuer}/oauth/token` }))
    assert.ok(!page.text.includes(secret), 'the app page never shows the secret')
    assert.match(page.text, /YOUR_CLIENT_SECRET is the Client Secret shown when the application was created or last rotated\./)
    assert.match(sample, /--data client_secret=YOUR_CLIENT_SECRET/)
    const again = await runCurl(sample.replace('YOUR_CLIENT_SECRET', secret))
    assert.deepEqual([again.token_type, again.scope], ['Bearer', 'orders:read'])
  })

  it('a password application: the curl asks /connect/token for the user named in place of the placeholders', async () => {
    const { shown } = await create({ app_type: 'password', scope: '', scopes: 'profile' })
    const [id, secret] = [idOf(shown), secretOf(shown)]
    const curl = assertGenerated(shown, tokenRequest({ clientId: id, clientSecret: secret, authMethod: 'client_secret_basic', tokenEndpoint: `${issuer}/connect/token`, grantType: 'password' }))
    assert.match(curl, /--data grant_type=password/)
    const answer = await runCurl(curl.replace('YOUR_USERNAME', 'ada%40example.com').replace('YOUR_PASSWORD', 'ada-password-1'))
    assert.deepEqual([answer.token_type, typeof answer.access_token, typeof answer.refresh_token], ['Bearer', 'string', 'string'])
    // The placeholders as they are: a failed login, not a token.
    const refused = await run('sh', ['-c', `${curl} --silent --write-out ' %{http_code}'`])
    assert.match(refused.stdout, /"error":"invalid_grant".* 400$/)
  })

  it('an API key: the curl sends it in the Csc-Api-Key header of /v2/oauth/request-tokens, and gets a token; the app page has a placeholder', async () => {
    const { ada, shown } = await create({ app_type: 'api_key', token_format: 'opaque' })
    // The API key's page shows no Client ID: its Done button leads to the application.
    const [id, apiKey] = [/<a class="button primary" href="\/console\/apps\/([^"]+)">Done<\/a>/.exec(shown.text)?.[1] ?? '', secretOf(shown, 'api-key')]
    assert.ok(id)
    assert.match(apiKey, /^[^:]+:.+$/)
    const curl = assertGenerated(shown, apiKeyTokenRequest(apiKey, `${issuer}/v2/oauth/request-tokens`))
    const answer = await runCurl(curl)
    // The Canary-style dialect answers in camelCase.
    assert.deepEqual([typeof answer.accessToken, answer.expiresIn], ['string', 600], JSON.stringify(answer))
    const page = await ada.go(`/console/apps/${id}`)
    assertGenerated(page, apiKeyTokenRequest(undefined, `${issuer}/v2/oauth/request-tokens`))
    assert.ok(!page.text.includes(apiKey))
  })

  it('private key JWT: the curl names where the signed assertion goes; with one signed by the key it gets a token', async () => {
    const key = await clientKey('ES256', 'snippet-key')
    const { ada, shown } = await create({ app_type: 'machine', client_auth: 'private_key_jwt', jwks: JSON.stringify(key.publicJwk) })
    const id = idOf(shown)
    const request = tokenRequest({ clientId: id, authMethod: 'private_key_jwt', tokenEndpoint: `${issuer}/oauth/token` })
    const curl = assertGenerated(shown, request)
    assert.match(shown.text, /<p class="muted small" id="assertion-hint">Replace YOUR_SIGNED_JWT with a JWT your service signs with its private key \(RFC 7523\)/)
    const answer = await runCurl(curl.replace('YOUR_SIGNED_JWT', await signAssertion(key, { clientId: id, audience: issuer })))
    assert.deepEqual([answer.token_type, answer.scope], ['Bearer', 'orders:read'])
    assertGenerated(await ada.go(`/console/apps/${id}`), request)
  })

  it('a sign-in application shows how to sign people in, not a token request', async () => {
    const { ada, shown } = await create({ app_type: 'spa', redirect_uris: 'https://app.example.com/callback', scope: '', scopes: 'openid' })
    assert.deepEqual(snippetsOn(shown), {})
    const page = await ada.go(`/console/apps/${idOf(shown)}`)
    assert.deepEqual(snippetsOn(page), {})
    assert.match(page.text, /<h2>Sign people in<\/h2><div class="card"><dl class="facts" id="sign-in">/)
  })
})
