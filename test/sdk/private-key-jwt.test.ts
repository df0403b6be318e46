import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createTokenClient, TokenClientError, type PrivateKeyJwtCredentials } from '../../src/sdk/client.js'
import { jwtPayload } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { recordingFetch } from './support.js'

type Generated = { privateKey: PrivateKeyJwtCredentials['privateKey']; publicJwk: Record<string, unknown> }

/** A WebCrypto key pair, as a service would make one; only the public JWK goes to Gatehouse. */
async function webCryptoKey(algorithm: { name: string } & Record<string, unknown>, kid: string): Promise<Generated> {
  // The four algorithms' parameter shapes differ; the platform checks them.
  const pair = (await crypto.subtle.generateKey(algorithm as Parameters<typeof crypto.subtle.generateKey>[0] & { name: 'Ed25519' }, true, ['sign', 'verify'])) as { privateKey: Generated['privateKey']; publicKey: Generated['privateKey'] }
  const jwk = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as Record<string, unknown>
  const { key_ops: _ops, ext: _ext, ...publicJwk } = jwk
  return { privateKey: pair.privateKey, publicJwk: { ...publicJwk, kid } }
}

describe('the token client with private_key_jwt credentials against a real Gatehouse', () => {
  let server: TestServer
  let keys: Generated[]
  let clientId: string

  before(async () => {
    server = await startTestServer()
    keys = await Promise.all([
      webCryptoKey({ name: 'ECDSA', namedCurve: 'P-256' }, 'es'),
      webCryptoKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, 'rs'),
      webCryptoKey({ name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, 'ps'),
      webCryptoKey({ name: 'Ed25519' }, 'ed'),
    ])
    // A JWK exported from an RSA-PSS key says alg PS256, from a PKCS#1 one RS256: both kept.
    clientId = (await server.createClient({ tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: keys.map((key) => key.publicJwk) }, grantTypes: ['client_credentials'], scopes: ['api'] })).id
  })
  after(() => server.close())

  it('keeps a WebCrypto-exported Ed25519 JWK (alg "Ed25519", RFC 9864) as an EdDSA key', async () => {
    const stored = await server.server.gatehouse.clients.get(clientId)
    assert.deepEqual(keys.map((key) => key.publicJwk.alg), [undefined, 'RS256', 'PS256', 'Ed25519'])
    assert.deepEqual(stored?.jwks?.keys.map((key) => key.alg), [undefined, 'RS256', 'PS256', 'EdDSA'])
  })

  it('signs a fresh assertion for every token request, with each kind of WebCrypto key, in the standard and IdentityServer dialects', async () => {
    for (const [index, key] of keys.entries()) {
      const { fetch, calls } = recordingFetch()
      const dialect = index % 2 === 0 ? 'standard' : 'identityserver'
      const tokens = createTokenClient({ issuer: server.url, dialect, credentials: { clientId, privateKey: key.privateKey, keyId: String(key.publicJwk.kid) }, scope: 'api', fetch })
      const first = await tokens.getToken()
      const second = await tokens.renew()
      assert.notEqual(first, second)
      assert.equal(jwtPayload(second).client_id, clientId)
      const assertions = calls.map((call) => new URLSearchParams(call.body).get('client_assertion') ?? '')
      assert.equal(assertions.length, 2)
      assert.notEqual(jwtPayload(assertions[0] ?? '').jti, jwtPayload(assertions[1] ?? '').jti)
      assert.deepEqual({ iss: jwtPayload(assertions[0] ?? '').iss, aud: jwtPayload(assertions[0] ?? '').aud }, { iss: clientId, aud: server.url })
    }
  })

  it('names the token URL as the audience when it is given instead of the issuer, and says invalid_client for a key the server does not know', async () => {
    const tokens = createTokenClient({ tokenUrl: `${server.url}/oauth/token`, dialect: 'standard', credentials: { clientId, privateKey: keys[0]?.privateKey as Generated['privateKey'] } })
    assert.equal(jwtPayload(await tokens.getToken()).client_id, clientId)
    const stranger = await webCryptoKey({ name: 'ECDSA', namedCurve: 'P-256' }, 'es')
    const refused = createTokenClient({ issuer: server.url, dialect: 'standard', credentials: { clientId, privateKey: stranger.privateKey, keyId: 'es' } })
    await assert.rejects(refused.getToken(), (error: unknown) => {
      assert.ok(error instanceof TokenClientError)
      assert.deepEqual({ code: error.code, status: error.status }, { code: 'invalid_client', status: 401 })
      return true
    })
  })
})
