import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request } from '../helpers/http.js'

describe('signing keys, JWKS and metadata', () => {
  let server: TestServer
  let client: { id: string; secret: string }

  before(async () => {
    server = await startTestServer()
    client = await server.createClient()
  })
  after(() => server.close())

  const issue = async (): Promise<string> =>
    ((await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client })).body as { access_token: string }).access_token

  it('serves a JWKS that jose.createRemoteJWKSet verifies tokens against', async () => {
    const token = await issue()
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`))
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: server.url, audience: server.url, typ: 'at+jwt', algorithms: ['ES256'] })
    assert.equal(payload.client_id, client.id)
    assert.equal(protectedHeader.typ, 'at+jwt')
    const answer = await request(`${server.url}/.well-known/jwks.json`)
    const keys = (answer.body as { keys: Record<string, unknown>[] }).keys
    // One key per algorithm (RFC 9068 §2.1: ES256, the default, and RS256).
    assert.equal(keys.length, 2)
    const ec = keys.find((key) => key.alg === 'ES256')
    assert.deepEqual(Object.keys(ec ?? {}).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'])
    assert.equal(JSON.stringify(keys).includes('"d"'), false, 'no private key material')
  })

  it('keeps verifying tokens of the old key after a rotation, and signs new ones with the new key', async () => {
    const before = await issue()
    const oldKid = decodeProtectedHeader(before).kid
    const oldKids = ((await request(`${server.url}/.well-known/jwks.json`)).body as { keys: { kid: string }[] }).keys.map((k) => k.kid)
    const [newKid] = await server.server.gatehouse.keys.rotate('ES256')
    assert.notEqual(newKid, oldKid)
    const afterRotation = await issue()
    assert.equal(decodeProtectedHeader(afterRotation).kid, newKid)
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`))
    for (const token of [before, afterRotation]) {
      await jwtVerify(token, jwks, { issuer: server.url, typ: 'at+jwt' })
      const introspection = await request(`${server.url}/oauth/introspect`, { form: { token }, basic: client })
      assert.equal((introspection.body as { active: boolean }).active, true)
    }
    const kids = ((await request(`${server.url}/.well-known/jwks.json`)).body as { keys: { kid: string }[] }).keys.map((k) => k.kid).sort()
    assert.deepEqual(kids, [...oldKids, newKid].sort())
    assert.ok(oldKids.includes(oldKid ?? ''))
  })

  it('stores private keys encrypted, never in clear', async () => {
    const records = await server.server.gatehouse.store.listSigningKeys()
    for (const record of records) {
      assert.match(record.privateJwkEncrypted, /^v1\.[\w-]+\.[\w-]+\.[\w-]+$/)
      assert.equal(record.privateJwkEncrypted.includes('"d"'), false)
    }
  })

  it('publishes RFC 8414 metadata at both well-known paths', async () => {
    const expected = {
      issuer: server.url,
      token_endpoint: `${server.url}/oauth/token`,
      introspection_endpoint: `${server.url}/oauth/introspect`,
      revocation_endpoint: `${server.url}/oauth/revoke`,
      jwks_uri: `${server.url}/.well-known/jwks.json`,
    }
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const answer = await request(server.url + path)
      assert.equal(answer.status, 200)
      const body = answer.body as Record<string, unknown>
      assert.deepEqual(Object.fromEntries(Object.keys(expected).map((k) => [k, body[k]])), expected)
      assert.deepEqual(body.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'])
      assert.deepEqual(body.token_endpoint_auth_signing_alg_values_supported, ['ES256', 'RS256', 'PS256', 'EdDSA'])
      assert.ok((body.grant_types_supported as string[]).includes('client_credentials'))
    }
  })

  it('reports health and readiness', async () => {
    assert.deepEqual((await request(`${server.url}/healthz`)).body, { status: 'ok' })
    assert.deepEqual((await request(`${server.url}/readyz`)).body, { status: 'ready' })
  })

  it('answers unknown paths with a JSON 404', async () => {
    const answer = await request(`${server.url}/nope?secret=1`)
    assert.deepEqual({ status: answer.status, body: answer.body }, { status: 404, body: { error: 'not_found', error_description: 'No route for GET /nope.' } })
  })
})
