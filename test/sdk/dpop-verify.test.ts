import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { exportJWK, generateKeyPair } from 'jose'
import { MemoryDpopReplayCache, createVerifier, BearerTokenError, type DpopReplayCache, type Verifier } from '../../src/sdk/verify.js'
import { dpopKey, unsignedProof, type DpopTestKey } from '../helpers/dpop.js'
import { request } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { startProtectedApps, type ProtectedApps } from './support.js'

/**
 * gatehouse/verify with DPoP-bound tokens (RFC 9449 §7) issued by the real server: the checks on
 * their own, then through the Fastify plugin and the Express middleware, with the attacker cases.
 */
const REALM = 'test'
const ALGS = 'algs="ES256 RS256 PS256 EdDSA"'
const dpopChallenge = (error: string, description: string): string => `DPoP realm="${REALM}", error="${error}", error_description="${description}", ${ALGS}, Bearer realm="${REALM}"`

async function rejection(promise: Promise<unknown>): Promise<BearerTokenError> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (caught: unknown) => caught,
  )
  assert.ok(error instanceof BearerTokenError, `expected a BearerTokenError, got ${String(error)}`)
  return error
}

describe('gatehouse/verify: DPoP-bound access tokens from the real server (RFC 9449 §7)', () => {
  let server: TestServer
  let tokenUrl: string
  let client: { id: string; secret: string }
  let opaqueClient: { id: string; secret: string }
  let resource: { id: string; secret: string }
  let verifier: Verifier
  let apps: ProtectedApps
  let key: DpopTestKey
  let bound: string
  let boundOpaque: string
  let unbound: string

  async function issue(key: DpopTestKey | undefined, as = client): Promise<string> {
    const headers: Record<string, string> = key ? { dpop: await key.proof({ htm: 'POST', htu: tokenUrl }) } : {}
    const answer = await request(tokenUrl, { form: { grant_type: 'client_credentials', scope: 'api', client_id: as.id, client_secret: as.secret }, headers })
    assert.equal(answer.status, 200, answer.text)
    const body = answer.body as { access_token: string; token_type: string }
    assert.equal(body.token_type, key ? 'DPoP' : 'Bearer')
    return body.access_token
  }

  before(async () => {
    server = await startTestServer()
    tokenUrl = `${server.url}/oauth/token`
    client = await server.createClient({ grantTypes: ['client_credentials'], scopes: ['api'] })
    opaqueClient = await server.createClient({ grantTypes: ['client_credentials'], scopes: ['api'], tokenFormat: 'opaque' })
    resource = await server.createClient({ grantTypes: ['client_credentials'], scopes: ['api'] })
    const issuer = server.config.issuer
    verifier = createVerifier({ issuer, audience: issuer, introspection: { clientId: resource.id, clientSecret: resource.secret } })
    apps = await startProtectedApps(verifier, REALM)
    key = await dpopKey()
    bound = await issue(key)
    boundOpaque = await issue(key, opaqueClient)
    unbound = await issue(undefined)
  })
  after(async () => {
    await apps?.close()
    await server?.close()
  })

  const resourceUrl = 'https://api.example.com/records'
  const info = async (token: string, input: Partial<Parameters<DpopTestKey['proof']>[0]> = {}, by = key) => ({
    proof: await by.proof({ htm: 'GET', htu: resourceUrl, accessToken: token, ...input }),
    method: 'GET',
    url: resourceUrl,
  })

  describe('the checks on their own', () => {
    it('accepts a bound JWT and a bound opaque token with a valid proof, and names the key', async () => {
      for (const token of [bound, boundOpaque]) {
        const verified = await verifier.verify(token, { dpop: await info(token) })
        assert.equal(verified.jkt, (verified.claims.cnf as { jkt: string }).jkt)
        assert.equal(verified.clientId, token === bound ? client.id : opaqueClient.id)
      }
    })

    it('accepts through verifyRequest with Authorization: DPoP, the scheme case-insensitive', async () => {
      const verified = await verifier.verifyRequest({ authorization: `dpop ${bound}`, dpop: await info(bound) })
      assert.equal(verified.format, 'jwt')
    })

    it('still takes an unbound bearer token, and ignores a DPoP header beside it', async () => {
      assert.equal((await verifier.verifyRequest(`Bearer ${unbound}`)).clientId, client.id)
      assert.equal((await verifier.verifyRequest({ authorization: `Bearer ${unbound}`, dpop: await info(unbound) })).jkt, undefined)
    })

    it('refuses a stolen bound token presented as Bearer (JWT and opaque), and through verify() without a proof', async () => {
      for (const token of [bound, boundOpaque]) {
        const error = await rejection(verifier.verifyRequest(`Bearer ${token}`))
        assert.deepEqual([error.status, error.code, error.reason, error.scheme], [401, 'invalid_token', 'dpop_binding', 'DPoP'])
        await rejection(verifier.verify(token))
      }
    })

    it('refuses an unbound token presented as DPoP', async () => {
      const error = await rejection(verifier.verify(unbound, { dpop: await info(unbound) }))
      assert.deepEqual([error.code, error.reason], ['invalid_token', 'dpop_binding'])
    })

    it('refuses every bad proof with invalid_dpop_proof (or invalid_token for another key)', async () => {
      const other = await dpopKey()
      const now = Math.floor(Date.now() / 1000)
      const { privateKey } = await generateKeyPair('ES256', { extractable: true })
      const cases: [string, Promise<{ proof: string | string[] | undefined; method: string; url: string }>, string][] = [
        ['another key', info(bound, {}, other), 'invalid_token'],
        ['wrong ath', info(bound, { accessToken: unbound }), 'invalid_dpop_proof'],
        ['no ath', info(bound, { claims: { ath: undefined } }), 'invalid_dpop_proof'],
        ['wrong htu', info(bound, { htu: 'https://api.example.com/other' }), 'invalid_dpop_proof'],
        ['wrong htm', info(bound, { htm: 'POST' }), 'invalid_dpop_proof'],
        ['stale iat', info(bound, { iat: now - 120 }), 'invalid_dpop_proof'],
        ['future iat', info(bound, { iat: now + 120 }), 'invalid_dpop_proof'],
        ['typ JWT', info(bound, { header: { typ: 'JWT' } }), 'invalid_dpop_proof'],
        ['a private jwk', (async () => ({ ...(await info(bound, { header: { jwk: await exportJWK(privateKey) } })) }))(), 'invalid_dpop_proof'],
        ['alg none', Promise.resolve({ proof: unsignedProof({ typ: 'dpop+jwt', alg: 'none', jwk: key.publicJwk }, { htm: 'GET', htu: resourceUrl, iat: now, jti: 'none-1' }), method: 'GET', url: resourceUrl }), 'invalid_dpop_proof'],
        ['alg HS256', Promise.resolve({ proof: `${Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'HS256', jwk: key.publicJwk })).toString('base64url')}.e30.c2ln`, method: 'GET', url: resourceUrl }), 'invalid_dpop_proof'],
        ['no proof', Promise.resolve({ proof: undefined, method: 'GET', url: resourceUrl }), 'invalid_dpop_proof'],
        ['two proofs', (async () => { const one = await info(bound); return { ...one, proof: [String(one.proof), String(one.proof)] } })(), 'invalid_dpop_proof'],
        ['garbage', Promise.resolve({ proof: 'not.a.jwt', method: 'GET', url: resourceUrl }), 'invalid_dpop_proof'],
      ]
      for (const [name, dpop, code] of cases) {
        const error = await rejection(verifier.verify(bound, { dpop: await dpop }))
        assert.deepEqual([error.status, error.code, error.scheme], [401, code, 'DPoP'], name)
      }
    })

    it('ignores the query string in htu (RFC 9449 §4.3)', async () => {
      const dpop = await info(bound, { htu: `${resourceUrl}?page=2` })
      await verifier.verify(bound, { dpop: { ...dpop, url: `${resourceUrl}?page=3` } })
    })

    it('refuses a replayed proof, even after a refusal for another reason did not remember it', async () => {
      const dpop = await info(bound)
      await rejection(verifier.verify(bound, { dpop: { ...dpop, method: 'POST' } }))
      await verifier.verify(bound, { dpop })
      const replay = await rejection(verifier.verify(bound, { dpop }))
      assert.deepEqual([replay.code, replay.description], ['invalid_dpop_proof', 'The DPoP proof has been used before'])
    })

    it('takes a pluggable replay cache, sync or async, and the iat window option', async () => {
      const seen: { key: string; expiresAt: number }[] = []
      const replay: DpopReplayCache = {
        async remember(replayKey, expiresAt) {
          if (seen.some((entry) => entry.key === replayKey)) return false
          seen.push({ key: replayKey, expiresAt })
          return true
        },
      }
      const strict = createVerifier({ issuer: server.config.issuer, audience: server.config.issuer, dpop: { replay, maxAgeSeconds: 5 } })
      const dpop = await info(bound)
      await strict.verify(bound, { dpop })
      assert.equal(seen.length, 1)
      assert.ok(Math.abs(seen[0]!.expiresAt - (Date.now() + 6000)) < 3000)
      await rejection(strict.verify(bound, { dpop }))
      const error = await rejection(strict.verify(bound, { dpop: await info(bound, { iat: Math.floor(Date.now() / 1000) - 30 }) }))
      assert.equal(error.description, 'The DPoP proof iat is outside the acceptable window')
    })
  })

  describe('MemoryDpopReplayCache', () => {
    it('remembers until expiry and evicts the oldest entry at its size cap', () => {
      let now = 1_000
      const cache = new MemoryDpopReplayCache(3, () => now)
      assert.equal(cache.remember('a', 5_000), true)
      assert.equal(cache.remember('a', 5_000), false)
      assert.equal(cache.remember('b', 5_000), true)
      assert.equal(cache.remember('c', 5_000), true)
      assert.equal(cache.remember('d', 5_000), true)
      assert.equal(cache.size, 3)
      assert.equal(cache.remember('a', 5_000), true, 'a was evicted')
      assert.equal(cache.remember('c', 5_000), false)
      now = 6_000
      assert.equal(cache.remember('c', 9_000), true, 'c expired')
      assert.equal(cache.size, 1, 'expired entries go first')
    })
  })

  describe('through the Fastify plugin and the Express middleware', () => {
    const send = async (base: string, headers: Record<string, string>, method = 'GET') => request(`${base}/whoami`, { method, headers })

    it('let a bound token with its proof through, building htu from the request', async () => {
      for (const base of [apps.fastify, apps.express]) {
        for (const token of [bound, boundOpaque]) {
          const answer = await send(base, { authorization: `DPoP ${token}`, dpop: await key.proof({ htm: 'GET', htu: `${base}/whoami`, accessToken: token }) })
          assert.equal(answer.status, 200, `${base}: ${answer.text}`)
        }
        assert.equal((await send(base, { authorization: `Bearer ${unbound}` })).status, 200)
      }
    })

    it('answer the attacker cases with 401 and the DPoP challenge', async () => {
      const other = await dpopKey()
      for (const base of [apps.fastify, apps.express]) {
        const htu = `${base}/whoami`
        const replayed = await key.proof({ htm: 'GET', htu, accessToken: bound })
        assert.equal((await send(base, { authorization: `DPoP ${bound}`, dpop: replayed })).status, 200)
        const cases: [string, Record<string, string>, string, string][] = [
          ['stolen token as Bearer', { authorization: `Bearer ${bound}` }, 'invalid_token', 'The access token is DPoP-bound: present it with the DPoP scheme and a proof'],
          ['no proof', { authorization: `DPoP ${bound}` }, 'invalid_dpop_proof', 'A DPoP proof is required with a DPoP-bound access token'],
          ['another key', { authorization: `DPoP ${bound}`, dpop: await other.proof({ htm: 'GET', htu, accessToken: bound }) }, 'invalid_token', 'Invalid DPoP key binding'],
          ['wrong ath', { authorization: `DPoP ${bound}`, dpop: await key.proof({ htm: 'GET', htu, accessToken: unbound }) }, 'invalid_dpop_proof', 'The DPoP proof ath does not match the access token'],
          ['wrong htu', { authorization: `DPoP ${bound}`, dpop: await key.proof({ htm: 'GET', htu: `${base}/elsewhere`, accessToken: bound }) }, 'invalid_dpop_proof', 'The DPoP proof htu does not match the request URL'],
          ['wrong htm', { authorization: `DPoP ${bound}`, dpop: await key.proof({ htm: 'POST', htu, accessToken: bound }) }, 'invalid_dpop_proof', 'The DPoP proof htm does not match the request method'],
          ['stale iat', { authorization: `DPoP ${bound}`, dpop: await key.proof({ htm: 'GET', htu, accessToken: bound, iat: Math.floor(Date.now() / 1000) - 300 }) }, 'invalid_dpop_proof', 'The DPoP proof iat is outside the acceptable window'],
          ['replayed proof', { authorization: `DPoP ${bound}`, dpop: replayed }, 'invalid_dpop_proof', 'The DPoP proof has been used before'],
          ['alg none', { authorization: `DPoP ${bound}`, dpop: unsignedProof({ typ: 'dpop+jwt', alg: 'none', jwk: key.publicJwk }, { htm: 'GET', htu, iat: Math.floor(Date.now() / 1000), jti: 'x' }) }, 'invalid_dpop_proof', 'The DPoP proof algorithm is not accepted'],
          ['private jwk', { authorization: `DPoP ${bound}`, dpop: await key.proof({ htm: 'GET', htu, accessToken: bound, header: { jwk: await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey) } }) }, 'invalid_dpop_proof', 'The DPoP proof jwk must be a public key'],
          ['unbound token as DPoP', { authorization: `DPoP ${unbound}`, dpop: await key.proof({ htm: 'GET', htu, accessToken: unbound }) }, 'invalid_token', 'The access token is not DPoP-bound: present it with the Bearer scheme'],
        ]
        for (const [name, headers, error, description] of cases) {
          const answer = await send(base, headers)
          assert.deepEqual(
            { status: answer.status, challenge: answer.headers.get('www-authenticate'), body: answer.body },
            { status: 401, challenge: dpopChallenge(error, description), body: { error, error_description: description } },
            `${base}: ${name}`,
          )
        }
        const malformed = await send(base, { authorization: 'DPoP two tokens' })
        assert.equal(malformed.status, 400, `${base}: malformed DPoP header`)
      }
    })

    it('check htu against publicUrl when one is given (behind a proxy)', async () => {
      const proxied = await startProtectedApps(verifier, REALM, [], 'https://api.example.com/')
      try {
        for (const base of [proxied.fastify, proxied.express]) {
          const good = await send(base, { authorization: `DPoP ${bound}`, dpop: await key.proof({ htm: 'GET', htu: 'https://api.example.com/whoami', accessToken: bound }) })
          assert.equal(good.status, 200, `${base}: ${good.text}`)
          const direct = await send(base, { authorization: `DPoP ${bound}`, dpop: await key.proof({ htm: 'GET', htu: `${base}/whoami`, accessToken: bound }) })
          assert.equal(direct.status, 401)
        }
      } finally {
        await proxied.close()
      }
    })
  })
})
