import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createOperatorToken } from '../../src/core/admin/operator-token.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request, type HttpAnswer } from '../helpers/http.js'
import { assertionFields, clientKey, signAssertion, type ClientKey } from '../helpers/assertions.js'

const PROBLEM = 'application/problem+json; charset=utf-8'

function assertValidationProblem(answer: HttpAnswer, detail: string | RegExp): void {
  assert.equal(answer.status, 400, answer.text)
  assert.equal(answer.headers.get('content-type'), PROBLEM)
  const body = answer.body as Record<string, unknown>
  assert.deepEqual({ type: body.type, title: body.title, status: body.status }, { type: 'urn:gatehouse:problem:validation', title: 'Invalid request', status: 400 })
  if (typeof detail === 'string') assert.equal(body.detail, detail)
  else assert.match(String(body.detail), detail)
}

/** The management API's private_key_jwt fields (RFC 7591 §2 names): token_endpoint_auth_method, jwks, jwks_uri. */
describe('management API: private_key_jwt clients', () => {
  let server: TestServer
  let auth: Record<string, string>
  let es: ClientKey
  let ed: ClientKey
  const api = (path: string): string => `${server.url}/admin/v1${path}`

  before(async () => {
    server = await startTestServer()
    const g = server.server.gatehouse
    const issued = await createOperatorToken({ store: g.store, clients: g.clients, operators: g.operators, tokens: g.tokens, audit: g.audit, maxAccessTokenTtl: g.config.maxAccessTokenTtl })
    auth = { authorization: `Bearer ${issued.accessToken}` }
    ;[es, ed] = await Promise.all([clientKey('ES256', 'es-1'), clientKey('EdDSA', 'ed-1')])
  })
  after(() => server.close())

  const tokenWith = async (key: ClientKey, clientId: string): Promise<number> =>
    (await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', ...assertionFields(await signAssertion(key, { clientId, audience: server.url })) } })).status

  it('creates one with jwks (201, no client_secret), shows it, moves it to a jwks_uri and back, and its keys authenticate at once', async () => {
    const created = await request(api('/clients'), { headers: auth, json: { name: 'Ledger sync', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [es.publicJwk] }, grant_types: ['client_credentials'], scopes: ['api'] } })
    assert.equal(created.status, 201, created.text)
    const body = created.body as Record<string, unknown>
    assert.deepEqual([body.token_endpoint_auth_method, body.jwks, body.jwks_uri, 'client_secret' in body], ['private_key_jwt', { keys: [es.publicJwk] }, null, false])
    const id = String(body.client_id)
    assert.equal(await tokenWith(es, id), 200)

    const shown = (await request(api(`/clients/${id}`), { headers: auth })).body as Record<string, unknown>
    assert.deepEqual([shown.jwks, shown.jwks_uri], [{ keys: [es.publicJwk] }, null])
    const listed = (await request(api('/clients'), { headers: auth })).body as { clients: Record<string, unknown>[] }
    assert.deepEqual(listed.clients.find((client) => client.client_id === id)?.jwks, { keys: [es.publicJwk] })

    const toUri = await request(api(`/clients/${id}`), { method: 'PATCH', headers: auth, json: { jwks_uri: 'https://keys.example.com/jwks' } })
    assert.equal(toUri.status, 200, toUri.text)
    assert.deepEqual([(toUri.body as Record<string, unknown>).jwks, (toUri.body as Record<string, unknown>).jwks_uri], [null, 'https://keys.example.com/jwks'])

    // New inline keys replace the URL; the old key stops at once, the new one works.
    const rotated = await request(api(`/clients/${id}`), { method: 'PATCH', headers: auth, json: { jwks: { keys: [ed.publicJwk] } } })
    assert.deepEqual([(rotated.body as Record<string, unknown>).jwks, (rotated.body as Record<string, unknown>).jwks_uri], [{ keys: [ed.publicJwk] }, null])
    assert.equal(await tokenWith(es, id), 401)
    assert.equal(await tokenWith(ed, id), 200)

    const secret = await request(api(`/clients/${id}/secret`), { method: 'POST', headers: auth })
    assertValidationProblem(secret, `client ${id} authenticates with private_key_jwt: it has no secret to rotate; change its keys (jwks or jwks_uri) instead, or its auth method to a secret one first`)
  })

  it('creates one with a jwks_uri, and moves a secret client to private_key_jwt: its secret stops working', async () => {
    const remote = await request(api('/clients'), { headers: auth, json: { name: 'Partner', token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://partner.example.com/jwks.json' } })
    assert.equal(remote.status, 201, remote.text)
    assert.deepEqual([(remote.body as Record<string, unknown>).jwks, (remote.body as Record<string, unknown>).jwks_uri, 'client_secret' in (remote.body as object)], [null, 'https://partner.example.com/jwks.json', false])

    const secretClient = (await request(api('/clients'), { headers: auth, json: { name: 'Old job', grant_types: ['client_credentials'] } })).body as { client_id: string; client_secret: string }
    const basic = { id: secretClient.client_id, secret: secretClient.client_secret }
    assert.equal((await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic })).status, 200)
    const moved = await request(api(`/clients/${secretClient.client_id}`), { method: 'PATCH', headers: auth, json: { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [es.publicJwk] } } })
    assert.equal(moved.status, 200, moved.text)
    assert.equal((await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic })).status, 401)
    assert.equal(await tokenWith(es, secretClient.client_id), 200)
  })

  it('refuses private key material, symmetric keys, a missing or doubled key source and a bad jwks_uri with a clear 400', async () => {
    const create = (fields: Record<string, unknown>) => request(api('/clients'), { headers: auth, json: { name: 'Bad', token_endpoint_auth_method: 'private_key_jwt', ...fields } })
    assertValidationProblem(await create({ jwks: { keys: [{ ...es.publicJwk, d: 'c2VjcmV0' }] } }), 'jwks: the key holds private key material ("d"): paste the public key only, and treat this private key as exposed')
    assertValidationProblem(await create({ jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }), 'jwks: the key is a symmetric key (kty "oct"): register public keys only (EC P-256, RSA or Ed25519); a shared secret key is not a public key')
    assertValidationProblem(await create({ jwks: { keys: [ed.publicJwk, { ...ed.publicJwk, kid: 'ed-2', x: 'AAAA' }] } }), 'jwks: key 2 is not a valid OKP public key')
    assertValidationProblem(await create({ jwks: { keys: [es.publicJwk, { ...ed.publicJwk, kid: 'es-1' }] } }), 'jwks: the kid "es-1" names two keys: each key needs its own kid')
    assertValidationProblem(await create({}), 'a private_key_jwt client needs exactly one of jwks (its public keys) and jwks_uri (where it publishes them)')
    assertValidationProblem(await create({ jwks: { keys: [es.publicJwk] }, jwks_uri: 'https://keys.example.com/jwks' }), 'a private_key_jwt client needs exactly one of jwks (its public keys) and jwks_uri (where it publishes them)')
    assertValidationProblem(await create({ jwks_uri: 'https://user:pass@keys.example.com/jwks' }), 'jwks_uri must not carry a username or password')
    // Not a JWK Set at all: the schema says so before the client settings are read.
    assertValidationProblem(await create({ jwks: 'not a JWK Set' }), 'body/jwks must be object,null')
    assertValidationProblem(await create({ jwks: { keys: [] } }), 'body/jwks/keys must NOT have fewer than 1 items')
    assertValidationProblem(await create({ jwks: { keys: [{ crv: 'P-256' }] } }), "body/jwks/keys/0 must have required property 'kty'")
    const secretClient = await request(api('/clients'), { headers: auth, json: { name: 'Secret', jwks: { keys: [es.publicJwk] } } })
    assertValidationProblem(secretClient, 'jwks and jwks_uri are for private_key_jwt clients only (set the auth method to private_key_jwt)')
  })
})
