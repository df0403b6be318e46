import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto'
import { calculateJwkThumbprint, createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { createTestDatabase } from '../helpers/database.js'
import { request } from '../helpers/http.js'
import { createVerifier, BearerTokenError } from '../../src/sdk/verify.js'
import { openStore } from '../../src/store/open-store.js'
import { KeyEncryption } from '../../src/core/tokens/key-encryption.js'
import { KeyRing } from '../../src/core/tokens/key-ring.js'

type Jwks = { keys: (JWK & { kid: string; alg: string; use: string })[] }

/** RFC 9068 §2.1: the AS and resource servers MUST support RS256; Gatehouse signs ES256 by default. */
describe('RS256 access tokens beside ES256', () => {
  let server: TestServer
  let es256Client: { id: string; secret: string }
  let rs256Client: { id: string; secret: string }

  before(async () => {
    server = await startTestServer()
    es256Client = await server.createClient()
    rs256Client = await server.createClient({ signingAlg: 'RS256' })
  })
  after(() => server.close())

  const jwksUrl = (): URL => new URL(`${server.url}/.well-known/jwks.json`)
  const jwks = async (): Promise<Jwks> => (await request(jwksUrl().href)).body as Jwks
  const issue = async (client: { id: string; secret: string }): Promise<string> =>
    ((await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: client })).body as { access_token: string }).access_token
  const introspect = async (token: string): Promise<Record<string, unknown>> =>
    (await request(`${server.url}/oauth/introspect`, { form: { token }, basic: es256Client })).body as Record<string, unknown>
  const verifier = () => createVerifier({ issuer: server.url, audience: server.url, jwksCooldownMs: 0 })

  it('publishes one ES256 and one RS256 key, each with alg and use sig, and no private parts', async () => {
    const { keys } = await jwks()
    assert.deepEqual(keys.map((key) => [key.kty, key.alg, key.use]).sort(), [['EC', 'ES256', 'sig'], ['RSA', 'RS256', 'sig']])
    const rsa = keys.find((key) => key.alg === 'RS256')!
    assert.deepEqual(Object.keys(rsa).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use'])
    assert.equal(Buffer.from(rsa.n!, 'base64url').length * 8, 2048)
    assert.equal(rsa.kid, await calculateJwkThumbprint({ kty: 'RSA', n: rsa.n!, e: rsa.e! }))
    const metadata = (await request(`${server.url}/.well-known/oauth-authorization-server`)).body as Record<string, unknown>
    assert.deepEqual(metadata.access_token_signing_alg_values_supported, ['ES256', 'RS256'])
  })

  it("signs an RS256 client's tokens RS256 with the RSA key: jose, introspection and the SDK accept them", async () => {
    const token = await issue(rs256Client)
    const rsaKid = (await jwks()).keys.find((key) => key.alg === 'RS256')!.kid
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'RS256', typ: 'at+jwt', kid: rsaKid })
    const { payload } = await jwtVerify(token, createRemoteJWKSet(jwksUrl()), { issuer: server.url, audience: server.url, typ: 'at+jwt', algorithms: ['RS256'] })
    assert.equal(payload.client_id, rs256Client.id)
    const introspection = await introspect(token)
    assert.deepEqual([introspection.active, introspection.client_id], [true, rs256Client.id])
    const verified = await verifier().verify(token)
    assert.equal(verified.clientId, rs256Client.id)
    // The default stays ES256.
    const es256 = await issue(es256Client)
    assert.equal(decodeProtectedHeader(es256).alg, 'ES256')
    assert.equal((await introspect(es256)).active, true)
    assert.equal((await verifier().verify(es256)).clientId, es256Client.id)
  })

  it('refuses a token re-signed HS256 with the RSA public key as the secret (algorithm confusion, RFC 8725 §2.1)', async () => {
    const genuine = await issue(rs256Client)
    const rsa = (await jwks()).keys.find((key) => key.alg === 'RS256')!
    const publicKey = createPublicKey({ key: rsa as JsonWebKey, format: 'jwk' })
    const [, payload] = genuine.split('.')
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: rsa.kid })).toString('base64url')
    const secrets = [publicKey.export({ type: 'spki', format: 'pem' }), publicKey.export({ type: 'pkcs1', format: 'pem' }), JSON.stringify(rsa)]
    for (const secret of secrets) {
      const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url')
      const forged = `${header}.${payload}.${signature}`
      assert.deepEqual(await introspect(forged), { active: false })
      await assert.rejects(verifier().verify(forged), (error: unknown) => error instanceof BearerTokenError && error.code === 'invalid_token' && error.reason === 'algorithm')
    }
    // Nor may a token name the RSA key with ES256 (or the EC key with RS256): the alg must be the key's.
    const ecKid = (await jwks()).keys.find((key) => key.alg === 'ES256')!.kid
    const [genuineHeader, , genuineSignature] = genuine.split('.')
    assert.ok(genuineHeader && genuineSignature)
    const swapped = `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: ecKid })).toString('base64url')}.${payload}.${genuineSignature}`
    assert.deepEqual(await introspect(swapped), { active: false })
  })

  it('rotates both keys, or one with its alg, and keeps every retired key published', async () => {
    const before = { es256: await issue(es256Client), rs256: await issue(rs256Client) }
    const oldKids = (await jwks()).keys.map((key) => key.kid)
    const newKids = await server.server.gatehouse.keys.rotate()
    assert.equal(newKids.length, 2)
    const published = await jwks()
    assert.deepEqual(published.keys.map((key) => key.kid).sort(), [...oldKids, ...newKids].sort())
    const after = { es256: await issue(es256Client), rs256: await issue(rs256Client) }
    assert.deepEqual([decodeProtectedHeader(after.es256).kid, decodeProtectedHeader(after.rs256).kid].sort(), [...newKids].sort())
    for (const token of [before.es256, before.rs256, after.es256, after.rs256]) {
      assert.equal((await introspect(token)).active, true)
      await jwtVerify(token, createRemoteJWKSet(jwksUrl()), { issuer: server.url, typ: 'at+jwt' })
    }
    const [onlyRs256] = await server.server.gatehouse.keys.rotate('RS256')
    assert.equal(decodeProtectedHeader(await issue(rs256Client)).kid, onlyRs256)
    assert.equal(decodeProtectedHeader(await issue(es256Client)).kid, decodeProtectedHeader(after.es256).kid)
    const active = server.server.gatehouse.keys.describe().filter((key) => key.active)
    assert.deepEqual(active.map((key) => key.alg).sort(), ['ES256', 'RS256'])
    assert.equal((await jwks()).keys.length, 5)
  })
})

describe('upgrading a deployment that has only an ES256 key', () => {
  it('creates exactly one RS256 key when instances start at once, and keeps the ES256 key active', async () => {
    const database = await createTestDatabase()
    const store = openStore(database.url)
    try {
      await store.migrate()
      const encryption = new KeyEncryption('an upgrade test secret of some length')
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      const publicJwk = publicKey.export({ format: 'jwk' }) as JWK
      const kid = await calculateJwkThumbprint(publicJwk)
      const es256 = {
        kid,
        alg: 'ES256' as const,
        publicJwk: JSON.stringify({ ...publicJwk, kid, alg: 'ES256', use: 'sig' }),
        privateJwkEncrypted: encryption.encrypt(JSON.stringify(privateKey.export({ format: 'jwk' })), kid),
        createdAt: 1_000,
        retiredAt: null,
      }
      assert.equal(await store.insertFirstSigningKey(es256), true)
      const instance = (): KeyRing => new KeyRing({ store, encryption, clock: { now: () => 2_000 } }, { maxTokenLifetime: 3600, reloadIntervalMs: 60_000 })
      const rings = [instance(), instance(), instance()]
      await Promise.all(rings.map((ring) => ring.init()))
      const records = await store.listSigningKeys()
      assert.deepEqual(records.map((record) => [record.alg, record.retiredAt]), [['RS256', null], ['ES256', null]])
      assert.deepEqual(records[1], es256)
      for (const ring of rings) {
        await ring.reload()
        assert.deepEqual([ring.active('ES256').kid, ring.active('RS256').kid], [kid, records[0]!.kid])
      }
    } finally {
      await store.close()
      await database.drop()
    }
  })
})
