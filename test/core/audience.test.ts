import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { jwtPayload, request, type HttpAnswer } from '../helpers/http.js'

/** RFC 8707 §2 through the standard `audience` parameter: allowed audiences, narrowed scopes, invalid_target. */

const INVOICES = 'https://invoices.example.com'
const REPORTS = 'https://reports.example.com'
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

const answerOf = (answer: HttpAnswer) => ({ status: answer.status, cacheControl: answer.headers.get('cache-control'), pragma: answer.headers.get('pragma'), body: answer.body })
const tokenBody = (answer: HttpAnswer): Record<string, unknown> => answer.body as Record<string, unknown>

describe('audience: a token for one registered API', () => {
  let server: TestServer
  let client: { id: string; secret: string }

  before(async () => {
    server = await startTestServer()
    const apis = server.server.gatehouse.apis
    await apis.create({ identifier: INVOICES, name: 'Invoices', scopes: [{ name: 'invoices:read', description: 'Read invoices' }, { name: 'invoices:write', description: 'Change invoices' }] })
    await apis.create({ identifier: REPORTS, name: 'Reports', scopes: [{ name: 'reports:read', description: 'Read reports' }] })
    await apis.create({ identifier: 'https://payroll.example.com', name: 'Payroll', scopes: [{ name: 'payroll:read', description: 'Read payroll' }] })
    client = await server.createClient({ grantTypes: ['client_credentials', 'password', 'refresh_token'], scopes: ['invoices:read', 'invoices:write', 'reports:read', 'legacy', 'openid', 'offline_access'], audience: 'https://legacy.example.com' })
    await server.createUser('ann@example.com', 'ann-password-1')
  })
  after(() => server.close())

  const token = (form: Record<string, string>) => request(`${server.url}/oauth/token`, { form, basic: client })

  it('without an audience keeps today: every granted scope, the client audience', async () => {
    const answer = await token({ grant_type: 'client_credentials' })
    assert.equal(answer.status, 200)
    assert.deepEqual([tokenBody(answer).scope, jwtPayload(String(tokenBody(answer).access_token)).aud], ['invoices:read invoices:write legacy reports:read', 'https://legacy.example.com'])
  })

  it('gives an allowed API its aud and only its scopes (client_credentials)', async () => {
    const answer = await token({ grant_type: 'client_credentials', audience: INVOICES })
    const claims = jwtPayload(String(tokenBody(answer).access_token))
    assert.deepEqual({ status: answer.status, scope: tokenBody(answer).scope, aud: claims.aud, claimScope: claims.scope }, { status: 200, scope: 'invoices:read invoices:write', aud: INVOICES, claimScope: 'invoices:read invoices:write' })
  })

  it("accepts the client's own audience, narrowing nothing when it names no registered API", async () => {
    const answer = await token({ grant_type: 'client_credentials', audience: 'https://legacy.example.com', scope: 'legacy reports:read' })
    assert.deepEqual([answer.status, tokenBody(answer).scope, jwtPayload(String(tokenBody(answer).access_token)).aud], [200, 'legacy reports:read', 'https://legacy.example.com'])
  })

  it('answers invalid_target for an API the client holds no scope of, and for an unknown audience', async () => {
    for (const audience of ['https://payroll.example.com', 'https://nowhere.example.com']) {
      const answer = await token({ grant_type: 'client_credentials', audience })
      assert.deepEqual(answerOf(answer), { status: 400, cacheControl: NO_STORE['cache-control'], pragma: NO_STORE.pragma, body: { error: 'invalid_target', error_description: `The audience '${audience}' is not allowed for this client.` } })
    }
    // The admin audience is Gatehouse's own: only an operator may ask for it (admin/operator-audience.ts).
    const admin = `${server.config.issuer}/admin/v1`
    const answer = await token({ grant_type: 'client_credentials', audience: admin })
    assert.deepEqual(answerOf(answer), { status: 400, cacheControl: NO_STORE['cache-control'], pragma: NO_STORE.pragma, body: { error: 'invalid_target', error_description: `The audience ${admin} is Gatehouse's management API; only an operator may ask for it.` } })
  })

  it('answers invalid_scope when none of the requested scopes belongs to the audience', async () => {
    const answer = await token({ grant_type: 'client_credentials', audience: INVOICES, scope: 'reports:read' })
    assert.deepEqual(answerOf(answer), { status: 400, cacheControl: 'no-store', pragma: 'no-cache', body: { error: 'invalid_scope', error_description: `None of the granted scopes belongs to the audience '${INVOICES}'; ask for one of its scopes.` } })
  })

  it('narrows a password grant to the API scopes plus the user-only ones, and a refresh keeps the audience', async () => {
    const answer = await token({ grant_type: 'password', username: 'ann@example.com', password: 'ann-password-1', audience: REPORTS, scope: 'openid offline_access reports:read invoices:read' })
    assert.equal(answer.status, 200, answer.text)
    assert.deepEqual([tokenBody(answer).scope, jwtPayload(String(tokenBody(answer).access_token)).aud], ['offline_access openid reports:read', REPORTS])
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: String(tokenBody(answer).refresh_token) })
    assert.equal(refreshed.status, 200, refreshed.text)
    assert.deepEqual([tokenBody(refreshed).scope, jwtPayload(String(tokenBody(refreshed).access_token)).aud], ['offline_access openid reports:read', REPORTS])
  })

  it('sees a registry change at once, without a restart', async () => {
    const apis = server.server.gatehouse.apis
    const payroll = await apis.get('https://payroll.example.com')
    assert.ok(payroll)
    await apis.update(payroll.id, { scopes: [...payroll.scopes, { name: 'legacy', description: 'The old catch-all scope' }] })
    const answer = await token({ grant_type: 'client_credentials', audience: 'https://payroll.example.com' })
    assert.deepEqual([answer.status, tokenBody(answer).scope], [200, 'legacy'])
    await apis.delete(payroll.id)
    assert.equal((await token({ grant_type: 'client_credentials', audience: 'https://payroll.example.com' })).status, 400)
  })
})
