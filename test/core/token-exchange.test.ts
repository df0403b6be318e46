import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import * as oidc from 'openid-client'
import { calculateJwkThumbprint } from 'jose'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { jwtPayload, request, type HttpAnswer } from '../helpers/http.js'
import { dpopKey } from '../helpers/dpop.js'

/**
 * RFC 8693 token exchange at the standard token endpoint: a service that received a user's
 * access token trades it for a token for the next API, on the user's behalf, with `act`.
 */

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const ACCESS = 'urn:ietf:params:oauth:token-type:access_token'
const REFRESH = 'urn:ietf:params:oauth:token-type:refresh_token'
const API_KEY = 'urn:gatehouse:params:oauth:token-type:api-key'
const ORDERS = 'https://orders.example.com'
const BILLING = 'https://billing.example.com'
const LEDGER = 'https://ledger.example.com'
const PASSWORD = 'exchange-password-1'

type Client = { id: string; secret: string }
const body = (answer: HttpAnswer): Record<string, unknown> => answer.body as Record<string, unknown>
const errorOf = (answer: HttpAnswer) => ({ status: answer.status, error: body(answer).error, cache: answer.headers.get('cache-control') })

describe('token exchange (RFC 8693)', () => {
  let server: TestServer
  let frontend: Client
  let orders: Client
  let billing: Client
  let impersonator: Client
  let stranger: Client
  let userId: string
  let userToken: string
  let userRefreshToken: string

  const token = (client: Client | undefined, form: Record<string, string>, headers: Record<string, string> = {}) =>
    request(`${server.url}/oauth/token`, { form, ...(client ? { basic: client } : {}), headers })
  const clientToken = async (client: Client): Promise<string> => String(body(await token(client, { grant_type: 'client_credentials' })).access_token)
  const exchange = (client: Client, extra: Record<string, string>) => token(client, { grant_type: EXCHANGE, subject_token: userToken, subject_token_type: ACCESS, ...extra })
  const introspect = async (value: string) => body(await request(`${server.url}/oauth/introspect`, { form: { token: value }, basic: stranger }))

  before(async () => {
    server = await startTestServer()
    const apis = server.server.gatehouse.apis
    await apis.create({ identifier: ORDERS, name: 'Orders', scopes: [{ name: 'orders:read', description: 'Read orders' }] })
    await apis.create({ identifier: BILLING, name: 'Billing', scopes: [{ name: 'billing:read', description: 'Read invoices' }, { name: 'billing:write', description: 'Change invoices' }] })
    await apis.create({ identifier: LEDGER, name: 'Ledger', scopes: [{ name: 'ledger:read', description: 'Read the ledger' }] })
    userId = (await server.createUser('una@example.com', PASSWORD)).id
    // The app the user signs in to: its tokens are for the Orders API and carry the downstream scopes too.
    frontend = await server.createClient({ grantTypes: ['password', 'refresh_token'], scopes: ['orders:read', 'billing:read'], audience: ORDERS })
    // The Orders service: it acts as the Orders API and calls Billing.
    orders = await server.createClient({ grantTypes: [EXCHANGE, 'client_credentials'], resources: [ORDERS, BILLING] })
    // The Billing service: acts as Billing, calls the Ledger.
    billing = await server.createClient({ grantTypes: [EXCHANGE, 'client_credentials'], resources: [BILLING, LEDGER], tokenFormat: 'opaque' })
    impersonator = await server.createClient({ grantTypes: [EXCHANGE], resources: [ORDERS, BILLING], allowImpersonation: true })
    stranger = await server.createClient({ grantTypes: [EXCHANGE, 'client_credentials'], resources: [BILLING] })
    const signIn = await token(frontend, { grant_type: 'password', username: 'una@example.com', password: PASSWORD })
    assert.equal(signIn.status, 200)
    userToken = String(body(signIn).access_token)
    userRefreshToken = String(body(signIn).refresh_token)
  })
  after(() => server.close())

  it('is in the discovery document', async () => {
    const metadata = body(await request(`${server.url}/.well-known/oauth-authorization-server`))
    assert.ok((metadata.grant_types_supported as string[]).includes(EXCHANGE))
  })

  it('delegation through openid-client: a token for the next API, the user as subject, the service in act', async () => {
    const config = await oidc.discovery(new URL(server.url), orders.id, undefined, oidc.ClientSecretBasic(orders.secret), { execute: [oidc.allowInsecureRequests] })
    const actorToken = await clientToken(orders)
    const answer = await oidc.genericGrantRequest(config, EXCHANGE, { subject_token: userToken, subject_token_type: ACCESS, actor_token: actorToken, actor_token_type: ACCESS, resource: BILLING, scope: 'billing:read' })
    assert.deepEqual([answer.token_type.toLowerCase(), answer.issued_token_type, answer.scope, answer.refresh_token], ['bearer', ACCESS, 'billing:read', undefined])
    const claims = jwtPayload(answer.access_token)
    const subject = jwtPayload(userToken)
    assert.deepEqual({ sub: claims.sub, aud: claims.aud, client_id: claims.client_id, act: claims.act, gid: claims.gid }, { sub: userId, aud: BILLING, client_id: orders.id, act: { sub: orders.id, client_id: orders.id }, gid: subject.gid })
    assert.ok(Number(claims.exp) <= Number(subject.exp))
    const seen = await introspect(answer.access_token)
    assert.deepEqual([seen.active, seen.sub, seen.aud, seen.act], [true, userId, BILLING, { sub: orders.id, client_id: orders.id }])
  })

  it('nests earlier actors when an exchanged token is exchanged again (an opaque token this time)', async () => {
    const first = await exchange(orders, { actor_token: await clientToken(orders), actor_token_type: ACCESS, resource: BILLING, scope: 'billing:read' })
    assert.equal(first.status, 200)
    const second = await token(billing, { grant_type: EXCHANGE, subject_token: String(body(first).access_token), subject_token_type: ACCESS, actor_token: await clientToken(billing), actor_token_type: ACCESS, resource: LEDGER })
    // Billing's own scopes held nothing of the Ledger's: the subject token had none to narrow to.
    assert.deepEqual(errorOf(second), { status: 400, error: 'invalid_scope', cache: 'no-store' })
    const toBilling = await token(billing, { grant_type: EXCHANGE, subject_token: String(body(first).access_token), subject_token_type: ACCESS, actor_token: await clientToken(billing), actor_token_type: ACCESS })
    assert.equal(toBilling.status, 200, toBilling.text)
    const seen = await introspect(String(body(toBilling).access_token))
    assert.deepEqual([seen.active, seen.sub, seen.client_id, seen.act], [true, userId, billing.id, { sub: billing.id, client_id: billing.id, act: { sub: orders.id, client_id: orders.id } }])
  })

  it('without an actor token: refused unless the client may impersonate; then act names the client', async () => {
    assert.deepEqual(errorOf(await exchange(orders, { resource: BILLING })), { status: 400, error: 'invalid_request', cache: 'no-store' })
    const answer = await exchange(impersonator, { resource: BILLING })
    assert.equal(answer.status, 200, answer.text)
    assert.deepEqual(jwtPayload(String(body(answer).access_token)).act, { sub: impersonator.id, client_id: impersonator.id })
  })

  // RFC 8693 §2.2.2: an invalid or unacceptable subject or actor token MUST be invalid_request.
  it('refuses a client the subject token was not issued for (invalid_request), and a target it may not have (invalid_target)', async () => {
    assert.deepEqual(errorOf(await exchange(stranger, { actor_token: await clientToken(stranger), actor_token_type: ACCESS })), { status: 400, error: 'invalid_request', cache: 'no-store' })
    assert.deepEqual(errorOf(await exchange(orders, { actor_token: await clientToken(orders), actor_token_type: ACCESS, resource: LEDGER })), { status: 400, error: 'invalid_target', cache: 'no-store' })
  })

  it('only narrows scope, only issues access tokens, and never takes a refresh token', async () => {
    const actor = { actor_token: await clientToken(orders), actor_token_type: ACCESS }
    assert.deepEqual(errorOf(await exchange(orders, { ...actor, resource: BILLING, scope: 'billing:write' })), { status: 400, error: 'invalid_scope', cache: 'no-store' })
    assert.deepEqual(errorOf(await exchange(orders, { ...actor, requested_token_type: REFRESH })), { status: 400, error: 'invalid_request', cache: 'no-store' })
    assert.deepEqual(errorOf(await token(orders, { grant_type: EXCHANGE, subject_token: userRefreshToken, subject_token_type: REFRESH, ...actor })), { status: 400, error: 'invalid_request', cache: 'no-store' })
    assert.deepEqual(errorOf(await token(orders, { grant_type: EXCHANGE, subject_token: userRefreshToken, subject_token_type: ACCESS, ...actor })), { status: 400, error: 'invalid_request', cache: 'no-store' })
    assert.deepEqual(errorOf(await token(orders, { grant_type: EXCHANGE, subject_token_type: ACCESS })), { status: 400, error: 'invalid_request', cache: 'no-store' })
    assert.deepEqual(errorOf(await token(orders, { grant_type: EXCHANGE, subject_token: userToken })), { status: 400, error: 'invalid_request', cache: 'no-store' })
    assert.deepEqual(errorOf(await exchange(orders, { actor_token: 'not-a-token', actor_token_type: ACCESS })), { status: 400, error: 'invalid_request', cache: 'no-store' })
    assert.deepEqual(errorOf(await exchange(orders, { actor_token_type: ACCESS })), { status: 400, error: 'invalid_request', cache: 'no-store' })
  })

  it('needs the grant type, and client authentication', async () => {
    const plain = await server.createClient({ grantTypes: ['client_credentials'], resources: [ORDERS] })
    assert.deepEqual(errorOf(await exchange(plain, {})), { status: 400, error: 'unauthorized_client', cache: 'no-store' })
    const anonymous = await token(undefined, { grant_type: EXCHANGE, subject_token: userToken, subject_token_type: ACCESS })
    assert.deepEqual(errorOf(anonymous), { status: 401, error: 'invalid_client', cache: 'no-store' })
  })

  it('ends the exchanged token with the grant of its subject token, and refuses a revoked subject token', async () => {
    const user = await server.createUser('vic@example.com', PASSWORD)
    const signIn = await token(frontend, { grant_type: 'password', username: 'vic@example.com', password: PASSWORD })
    const subject = String(body(signIn).access_token)
    const exchanged = await token(impersonator, { grant_type: EXCHANGE, subject_token: subject, subject_token_type: ACCESS })
    assert.equal(exchanged.status, 200)
    assert.equal((await introspect(String(body(exchanged).access_token))).active, true)
    // Disabling the user ends their grants: the exchanged token stands on the same grant.
    await server.server.gatehouse.users.setDisabled(user.id, true)
    assert.equal((await introspect(String(body(exchanged).access_token))).active, false)
    assert.deepEqual(errorOf(await token(impersonator, { grant_type: EXCHANGE, subject_token: subject, subject_token_type: ACCESS })), { status: 400, error: 'invalid_request', cache: 'no-store' })
    // A subject token revoked by its own client (RFC 7009).
    const fresh = await token(frontend, { grant_type: 'password', username: 'una@example.com', password: PASSWORD })
    const revoked = String(body(fresh).access_token)
    assert.equal((await request(`${server.url}/oauth/revoke`, { form: { token: revoked }, basic: frontend })).status, 200)
    assert.deepEqual(errorOf(await token(impersonator, { grant_type: EXCHANGE, subject_token: revoked, subject_token_type: ACCESS })), { status: 400, error: 'invalid_request', cache: 'no-store' })
  })

  it('never exchanges an operator token for the management API', async () => {
    const operator = await server.createClient({ grantTypes: ['client_credentials'] })
    await server.server.gatehouse.operators.put('client', operator.id, 'admin')
    const admin = String(body(await token(operator, { grant_type: 'client_credentials', audience: `${server.config.issuer}/admin/v1` })).access_token)
    assert.deepEqual(errorOf(await token(impersonator, { grant_type: EXCHANGE, subject_token: admin, subject_token_type: ACCESS })), { status: 400, error: 'invalid_request', cache: 'no-store' })
  })

  it('binds the new token to the DPoP key of the exchange request', async () => {
    const key = await dpopKey()
    const proof = await key.proof({ htm: 'POST', htu: `${server.url}/oauth/token` })
    const answer = await token(impersonator, { grant_type: EXCHANGE, subject_token: userToken, subject_token_type: ACCESS, resource: BILLING }, { dpop: proof })
    assert.equal(answer.status, 200, answer.text)
    assert.deepEqual([body(answer).token_type, (jwtPayload(String(body(answer).access_token)).cnf as { jkt?: string }).jkt], ['DPoP', await calculateJwkThumbprint(key.publicJwk)])
  })

  describe('an API key as the subject token', () => {
    let key: string
    before(async () => {
      key = (await server.server.gatehouse.apiKeys.create({ name: 'exchange', scopes: ['api'] })).apiKey
    })

    it('gives what the Canary endpoints give, without client authentication', async () => {
      const answer = await token(undefined, { grant_type: EXCHANGE, subject_token: key, subject_token_type: API_KEY })
      assert.equal(answer.status, 200, answer.text)
      assert.deepEqual([body(answer).token_type, body(answer).issued_token_type, body(answer).scope, typeof body(answer).refresh_token], ['Bearer', ACCESS, 'api', 'string'])
    })

    it('refuses client credentials beside it, and a wrong key', async () => {
      assert.deepEqual(errorOf(await token(orders, { grant_type: EXCHANGE, subject_token: key, subject_token_type: API_KEY })), { status: 400, error: 'invalid_request', cache: 'no-store' })
      // Same shape, another secret: one character before the padding changed.
      const wrong = key.slice(0, -2) + (key.at(-2) === 'A' ? 'B' : 'A') + key.slice(-1)
      assert.deepEqual(errorOf(await token(undefined, { grant_type: EXCHANGE, subject_token: wrong, subject_token_type: API_KEY })), { status: 401, error: 'invalid_client', cache: 'no-store' })
    })
  })
})
