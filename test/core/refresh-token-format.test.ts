import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { digestSecret } from '../../src/core/credentials/secrets.js'
import { timeOrderedUuid } from '../../src/core/ids.js'
import { systemRandom } from '../../src/core/random.js'
import { generateRefreshToken, looksLikeRefreshToken, refreshTokenKey } from '../../src/core/tokens/refresh-token-format.js'

describe('refresh token format and store key', () => {
  it('makes rt- tokens of 51 base64url characters that carry the issue time', () => {
    const token = generateRefreshToken(systemRandom, 1_795_446_828_116)
    assert.match(token, /^rt-[A-Za-z0-9_-]{51}$/)
    assert.equal(looksLikeRefreshToken(token), true)
    assert.equal(refreshTokenKey(token), (1_795_446_828_116).toString(16).padStart(12, '0') + digestSecret(token))
  })

  it('orders store keys by issue time, whatever the random part', () => {
    const keys = [1000, 2000, 3000, 1_795_446_828_116, 1_795_446_828_117].map((now) => refreshTokenKey(generateRefreshToken(systemRandom, now)))
    assert.deepEqual([...keys].sort(), keys)
  })

  it('keys a malformed token by its plain digest, which no issued token has', () => {
    assert.equal(looksLikeRefreshToken('rt-short'), false)
    assert.equal(refreshTokenKey('rt-short'), digestSecret('rt-short'))
  })

  it('makes UUIDv7 family ids ordered by time', () => {
    const early = timeOrderedUuid(systemRandom, 1_000_000)
    const late = timeOrderedUuid(systemRandom, 2_000_000)
    assert.match(early, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.ok(early < late)
  })
})
