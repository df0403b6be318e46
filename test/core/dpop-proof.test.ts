import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import { checkDpopProof, DpopNonces, type DpopPolicy } from '../../src/core/dpop/dpop-proof.js'
import { OAuthError } from '../../src/core/errors.js'
import { dpopKey, unsignedProof } from '../helpers/dpop.js'

const URL_ = 'https://as.example.com/oauth/token'

function memoryReplay(): DpopPolicy['replay'] {
  const seen = new Set<string>()
  return { rememberDpopProof: async (key) => (seen.has(key) ? false : (seen.add(key), true)) }
}
const policy = (overrides: Partial<DpopPolicy> = {}): DpopPolicy => ({ replay: memoryReplay(), windowSeconds: 60, requireNonce: false, ...overrides })

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof OAuthError)
    return `${error.code}: ${error.description ?? ''}`
  }
  assert.fail('the proof was accepted')
}

describe('DPoP proof check (RFC 9449 §4.3)', () => {
  test('accepts a proof for this method and URL and gives its key thumbprint (RFC 7638) as jkt', async () => {
    for (const alg of ['ES256', 'RS256', 'PS256', 'EdDSA'] as const) {
      const key = await dpopKey(alg)
      const checked = await checkDpopProof({ proof: await key.proof({ htm: 'POST', htu: URL_ + '?x=1' }), method: 'POST', url: URL_ }, policy(), Date.now())
      assert.equal(checked.jkt, await calculateJwkThumbprint(key.publicJwk, 'sha256'))
    }
  })

  test('refuses each bad proof with invalid_dpop_proof', async () => {
    const key = await dpopKey()
    const now = Date.now()
    const check = async (proof: string, extra: { method?: string; accessToken?: string } = {}) =>
      refusal(checkDpopProof({ proof, method: extra.method ?? 'POST', url: URL_, ...(extra.accessToken !== undefined ? { accessToken: extra.accessToken } : {}) }, policy(), now))
    assert.match(await check(await key.proof({ htm: 'GET', htu: URL_ })), /^invalid_dpop_proof: .*htm/)
    assert.match(await check(await key.proof({ htm: 'POST', htu: 'https://as.example.com/other' })), /^invalid_dpop_proof: .*htu/)
    assert.match(await check(await key.proof({ htm: 'POST', htu: URL_, iat: Math.floor(now / 1000) - 61 })), /^invalid_dpop_proof: .*iat/)
    assert.match(await check(await key.proof({ htm: 'POST', htu: URL_, iat: Math.floor(now / 1000) + 61 })), /^invalid_dpop_proof: .*iat/)
    assert.match(await check(await key.proof({ htm: 'POST', htu: URL_, header: { typ: 'JWT' } })), /^invalid_dpop_proof: .*typ/)
    assert.match(await check(await key.proof({ htm: 'GET', htu: URL_, accessToken: 'other' }), { method: 'GET', accessToken: 'token' }), /^invalid_dpop_proof: .*ath/)
    assert.match(await check(await key.proof({ htm: 'GET', htu: URL_ }), { method: 'GET', accessToken: 'token' }), /^invalid_dpop_proof: .*ath/)
    const jwk = key.publicJwk
    assert.match(await check(unsignedProof({ typ: 'dpop+jwt', alg: 'none', jwk }, { htm: 'POST', htu: URL_, iat: Math.floor(now / 1000), jti: 'a' })), /^invalid_dpop_proof: .*algorithm/)
    assert.match(await check(unsignedProof({ typ: 'dpop+jwt', alg: 'HS256', jwk }, { htm: 'POST', htu: URL_, iat: Math.floor(now / 1000), jti: 'a' })), /^invalid_dpop_proof: .*algorithm/)
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    assert.match(await check(await key.proof({ htm: 'POST', htu: URL_, header: { jwk: await exportJWK(privateKey) } })), /^invalid_dpop_proof: .*private/)
    const other = await dpopKey()
    assert.match(await check(await key.proof({ htm: 'POST', htu: URL_, header: { jwk: other.publicJwk } })), /^invalid_dpop_proof: .*signature/)
    assert.match(await check('x'.repeat(9000)), /^invalid_dpop_proof/)
    assert.match(await check('a.b.c'), /^invalid_dpop_proof/)
  })

  test('refuses a replayed jti', async () => {
    const key = await dpopKey()
    const shared = policy()
    const proof = await key.proof({ htm: 'POST', htu: URL_ })
    await checkDpopProof({ proof, method: 'POST', url: URL_ }, shared, Date.now())
    assert.match(await refusal(checkDpopProof({ proof, method: 'POST', url: URL_ }, shared, Date.now())), /^invalid_dpop_proof: .*used before/)
  })

  test('asks for the server nonce with use_dpop_nonce and accepts it from any instance with the same key (§8)', async () => {
    const key = await dpopKey()
    const now = Date.now()
    const nonces = new DpopNonces(Buffer.alloc(32, 7))
    const withNonce = policy({ nonces, requireNonce: true })
    let asked: OAuthError | undefined
    try {
      await checkDpopProof({ proof: await key.proof({ htm: 'POST', htu: URL_ }), method: 'POST', url: URL_ }, withNonce, now)
    } catch (error) {
      asked = error as OAuthError
    }
    assert.equal(asked?.code, 'use_dpop_nonce')
    const nonce = asked?.dpopNonce ?? ''
    assert.ok(new DpopNonces(Buffer.alloc(32, 7)).accepts(nonce, now))
    assert.equal(new DpopNonces(Buffer.alloc(32, 8)).accepts(nonce, now), false)
    assert.equal(nonces.accepts(nonce, now + 700_000), false)
    await checkDpopProof({ proof: await key.proof({ htm: 'POST', htu: URL_, nonce }), method: 'POST', url: URL_ }, withNonce, now)
  })
})
