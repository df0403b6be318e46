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

  test('refuses a key that does not fit the algorithm, a small RSA key, a tampered signature, crit, a passed exp and a payload that is no object', async () => {
    const now = Date.now()
    const iat = Math.floor(now / 1000)
    const check = async (proof: string) => refusal(checkDpopProof({ proof, method: 'POST', url: URL_ }, policy(), now))
    const ec = await dpopKey('ES256')
    const rsa = await dpopKey('RS256')
    const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
    /** The proof with its header's alg changed (its signature is the original alg's). */
    const relabel = (proof: string, alg: string): string => {
      const [first = '', ...rest] = proof.split('.')
      return [part({ ...(JSON.parse(Buffer.from(first, 'base64url').toString()) as object), alg }), ...rest].join('.')
    }
    // An EC key under RS256, an RSA key under ES256, PS256 and EdDSA: no key fits, or it does not verify.
    assert.match(await check(relabel(await ec.proof({ htm: 'POST', htu: URL_ }), 'RS256')), /^invalid_dpop_proof: .*signature/)
    for (const alg of ['ES256', 'PS256', 'EdDSA']) assert.match(await check(relabel(await rsa.proof({ htm: 'POST', htu: URL_ }), alg)), /^invalid_dpop_proof: .*signature/)
    // RFC 7518 §3.3: RSA keys of at least 2048 bits; a 1024-bit key's proof is refused.
    const { generateKeyPairSync, sign } = await import('node:crypto')
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const smallJwk = small.publicKey.export({ format: 'jwk' })
    const input = `${part({ typ: 'dpop+jwt', alg: 'RS256', jwk: smallJwk })}.${part({ htm: 'POST', htu: URL_, iat, jti: 'small' })}`
    assert.match(await check(`${input}.${sign('sha256', Buffer.from(input), small.privateKey).toString('base64url')}`), /^invalid_dpop_proof: .*signature/)
    const good = await ec.proof({ htm: 'POST', htu: URL_ })
    const [header, payload, signature = ''] = good.split('.')
    const flipped = Buffer.from(signature, 'base64url')
    flipped[0] = (flipped[0] ?? 0) ^ 1
    assert.match(await check(`${header}.${payload}.${flipped.toString('base64url')}`), /^invalid_dpop_proof: .*signature/)
    assert.match(await check(`${header}.${payload}.${signature.slice(0, 40)}`), /^invalid_dpop_proof: .*signature/)
    // crit: signed by hand (a JWT library refuses to make one it does not understand either).
    const critInput = `${part({ typ: 'dpop+jwt', alg: 'RS256', jwk: rsa.publicJwk, crit: ['x-unknown'], 'x-unknown': 1 })}.${part({ htm: 'POST', htu: URL_, iat, jti: 'crit' })}`
    const { subtle } = globalThis.crypto
    const critSignature = Buffer.from(await subtle.sign('RSASSA-PKCS1-v1_5', rsa.privateKey, Buffer.from(critInput))).toString('base64url')
    assert.match(await check(`${critInput}.${critSignature}`), /^invalid_dpop_proof: .*signature or claims/)
    assert.match(await check(await ec.proof({ htm: 'POST', htu: URL_, claims: { exp: iat - 120 } })), /^invalid_dpop_proof: .*signature or claims/)
    assert.match(await check(`${header}.${part([1, 2])}.${signature}`), /^invalid_dpop_proof: .*signature or claims/)
    // A jwk with extra public members is the same key: accepted, the same thumbprint.
    const extra = await ec.proof({ htm: 'POST', htu: URL_, header: { jwk: { ...ec.publicJwk, use: 'sig', note: 'x' } } })
    assert.equal((await checkDpopProof({ proof: extra, method: 'POST', url: URL_ }, policy(), now)).jkt, await calculateJwkThumbprint(ec.publicJwk, 'sha256'))
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
