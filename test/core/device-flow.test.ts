import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DeviceFlow, formatUserCode, normalizeUserCode, USER_CODE_ALPHABET } from '../../src/core/authorization/device-flow.js'
import type { DeviceAuthorizationRecord, DeviceAuthorizationStore } from '../../src/core/authorization/device-authorization-store.js'
import { UserCodeThrottle } from '../../src/core/authorization/user-code-throttle.js'
import { ManualClock } from '../../src/core/clock.js'
import { digestSecret } from '../../src/core/credentials/secrets.js'
import type { Random } from '../../src/core/random.js'
import { DuplicateError } from '../../src/core/store-errors.js'
import { DEVICE_CODE_GRANT, type Client } from '../../src/core/types.js'
import { MemoryRateLimiter } from '../../src/limits/memory-rate-limiter.js'
import type { FastifyRequest } from 'fastify'
import { OAuthError } from '../../src/core/errors.js'
import { standardStatus } from '../../src/http/error-mapping.js'
import { canary } from '../../src/http/dialects/canary.js'
import { identityserver } from '../../src/http/dialects/identityserver.js'
import { rfc6749 } from '../../src/http/dialects/rfc6749.js'
import { wrapped } from '../../src/http/dialects/wrapped.js'

/** Device authorizations in a Map, with the store's contract (enough for the core's own tests). */
class MemoryDeviceStore implements DeviceAuthorizationStore {
  readonly records = new Map<string, DeviceAuthorizationRecord>()
  /** User-code digests the next inserts collide with (a DuplicateError each). */
  taken = new Set<string>()
  async insertDeviceAuthorization(record: DeviceAuthorizationRecord): Promise<void> {
    if (this.taken.has(record.userCodeDigest) || [...this.records.values()].some((other) => other.userCodeDigest === record.userCodeDigest)) throw new DuplicateError('device authorization with this user code')
    this.records.set(record.deviceCodeDigest, { ...record })
  }
  async findDeviceAuthorization(digest: string) {
    return this.records.get(digest)
  }
  async findDeviceAuthorizationByUserCode(digest: string) {
    return [...this.records.values()].find((record) => record.userCodeDigest === digest)
  }
  async decideDeviceAuthorization(): Promise<boolean> {
    return false
  }
  async recordDevicePoll(): Promise<number | null> {
    return null
  }
  async consumeDeviceAuthorization() {
    return 'already-used' as const
  }
}

/** Hands out the given bytes in order, then zeros. */
function scriptedRandom(script: number[]): Random {
  let position = 0
  return {
    bytes(length: number) {
      const out = Buffer.alloc(length)
      for (let index = 0; index < length; index++) out[index] = script[position++] ?? 0
      return out
    },
    uuid: () => '00000000-0000-4000-8000-000000000000',
  }
}

const client = (overrides: Partial<Client> = {}): Client => ({
  id: 'cli',
  name: 'CLI',
  secretDigest: '',
  tokenEndpointAuthMethod: 'none',
  applicationType: null,
  redirectUris: [],
  postLogoutRedirectUris: [],
  requirePar: false,
  skipConsent: false,
  grantTypes: [DEVICE_CODE_GRANT],
  scopes: ['openid', 'api'],
  defaultScopes: [],
  audience: null,
  tokenFormat: 'jwt',
  signingAlg: 'ES256',
  accessTokenTtl: 3600,
  refreshTokenAbsoluteTtl: 86400,
  refreshTokenSlidingTtl: 86400,
  refreshTokenReuseInterval: 0,
  tokenReuseSeconds: 0,
  rotateRefreshTokens: true,
  tokensNotBefore: null,
  allowedUsers: null,
  createdAt: 0,
  updatedAt: 0,
  ...overrides,
})

function flow(store: DeviceAuthorizationStore, random: Random, clock = new ManualClock(), throttle?: UserCodeThrottle): DeviceFlow {
  return new DeviceFlow({
    store,
    clients: { get: async (id: string) => (id === 'cli' ? client() : undefined) },
    consents: { remember: async () => {} },
    authorizer: { describeScopes: (scopes) => scopes.map((name) => ({ name, description: name })) },
    clock,
    random,
    issuer: 'https://auth.example.com',
    ...(throttle ? { throttle } : {}),
  })
}

describe('user codes (RFC 8628 §6.1)', () => {
  it('normalizes case, dashes and spaces, and refuses anything but 8 letters of the alphabet', () => {
    for (const typed of ['BCDF-GHJK', 'bcdf-ghjk', 'bcdfghjk', ' BCDF GHJK ', 'bc-df-gh-jk', 'BCDF\tGHJK', 'BCDF\u2013GHJK', 'ＢＣＤＦ－ＧＨＪＫ']) assert.equal(normalizeUserCode(typed), 'BCDFGHJK', typed)
    for (const typed of ['', 'BCDF-GHJ', 'BCDF-GHJKL', 'ABCD-EFGH', 'BCDF-GHJ1', 'BCDF_GHJK', 'BCDF.GHJK', 'B'.repeat(65)]) assert.equal(normalizeUserCode(typed), undefined, typed)
    assert.equal(formatUserCode('BCDFGHJK'), 'BCDF-GHJK')
    assert.equal(USER_CODE_ALPHABET.length, 20)
  })

  it('draws each letter from a byte below 240 (no modulo bias): 240..255 are drawn again', async () => {
    const store = new MemoryDeviceStore()
    // 32 bytes of device code, then the user code's bytes.
    const random = scriptedRandom([...new Array<number>(32).fill(7), 255, 240, 0, 19, 20, 239, 250, 1, 2, 3, 4])
    const answer = await flow(store, random).start(client(), undefined)
    assert.equal(answer.userCode, 'BZBZ-CDFG')
    assert.equal(answer.deviceCode, Buffer.alloc(32, 7).toString('base64url'))
    assert.equal(answer.verificationUri, 'https://auth.example.com/device')
    assert.equal(answer.verificationUriComplete, 'https://auth.example.com/device?user_code=BZBZ-CDFG')
    const [record] = store.records.values()
    assert.equal(record?.userCodeDigest, digestSecret('BZBZCDFG'))
    assert.equal(record?.deviceCodeDigest, digestSecret(answer.deviceCode))
    assert.equal(record?.scope, 'api openid', 'no scope requested: all the client may have')
  })

  it('spreads letters evenly over many codes', async () => {
    const counts = new Map<string, number>()
    const store = new MemoryDeviceStore()
    const real = flow(store, { bytes: (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(Math.random() * 256))), uuid: () => '' })
    for (let index = 0; index < 500; index++) {
      for (const letter of (await real.start(client(), 'openid')).userCode.replace('-', '')) counts.set(letter, (counts.get(letter) ?? 0) + 1)
    }
    assert.deepEqual([...counts.keys()].sort().join(''), USER_CODE_ALPHABET)
    // 4000 letters, 200 expected each: every letter turns up, none far off (the exact check is the one above).
    for (const [letter, count] of counts) assert.ok(count > 130 && count < 270, `${letter}: ${count}`)
  })

  it('draws another user code when the store says it is taken', async () => {
    const store = new MemoryDeviceStore()
    store.taken.add(digestSecret('BBBBBBBB'))
    const random = scriptedRandom([...new Array<number>(32).fill(1), ...new Array<number>(16).fill(0), ...new Array<number>(16).fill(1)])
    const answer = await flow(store, random).start(client(), 'openid')
    assert.equal(answer.userCode, 'CCCC-CCCC')
  })

  it('refuses a client without the device grant, and scopes it may not have', async () => {
    const device = flow(new MemoryDeviceStore(), scriptedRandom([]))
    await assert.rejects(device.start(client({ grantTypes: ['client_credentials'] }), undefined), { code: 'unauthorized_client' })
    await assert.rejects(device.start(client(), 'openid admin'), { code: 'invalid_scope' })
  })
})

describe('the RFC 8628 error codes in every dialect', () => {
  it('are HTTP 400 with their code in the standard, IdentityServer and Canary shapes, and the wrapped table\'s 400 row', () => {
    const request = { headers: {} } as FastifyRequest
    for (const code of ['authorization_pending', 'slow_down', 'access_denied', 'expired_token'] as const) {
      const error = new OAuthError(code, { description: 'x' })
      assert.equal(standardStatus(error), 400)
      for (const shaper of [rfc6749, identityserver, canary]) {
        const answer = shaper.formatError(error, request)
        assert.equal(answer.status, 400, `${shaper.name} ${code}`)
        assert.equal((answer.body as { error: string }).error, code)
      }
      const wrappedAnswer = wrapped.formatError(error, request)
      assert.deepEqual([wrappedAnswer.status, (wrappedAnswer.body as { error: { code: string } }).error.code], [400, '400013'])
    }
  })
})

describe('UserCodeThrottle', () => {
  it('counts failures per address and in all, and blocks before the next lookup until the bucket refills', async () => {
    const clock = new ManualClock()
    const throttle = new UserCodeThrottle({ limiter: new MemoryRateLimiter(clock), clock }, { perSource: { points: 3, periodMs: 60_000 }, global: { points: 5, periodMs: 60_000 } })
    assert.equal(throttle.waitFor('a'), 0)
    for (let attempt = 0; attempt < 3; attempt++) assert.equal(await throttle.failed('a'), 0)
    assert.equal(await throttle.failed('a'), 20, 'the fourth failure: one point refills in 20 s')
    assert.equal(throttle.waitFor('a'), 20)
    assert.equal(throttle.waitFor('b'), 0, 'another address is not blocked')
    assert.equal(await throttle.failed('b'), 0)
    // Five failures in all (a: 4, b: 1 before this one): the global bucket is empty; everyone waits.
    assert.ok((await throttle.failed('c')) > 0)
    assert.ok(throttle.waitFor('d') > 0)
    clock.advance(20_000)
    assert.equal(throttle.waitFor('a'), 0)
    assert.equal(throttle.waitFor('d'), 0)
  })

  it('with a throttle, DeviceFlow refuses a throttled address before looking up, and counts only failed lookups', async () => {
    const clock = new ManualClock()
    const store = new MemoryDeviceStore()
    const random = { bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(Math.random() * 240))), uuid: () => '' }
    const throttle = new UserCodeThrottle({ limiter: new MemoryRateLimiter(clock), clock }, { perSource: { points: 2, periodMs: 60_000 }, global: null })
    const device = flow(store, random, clock, throttle)
    const { userCode } = await device.start(client(), 'openid')
    for (let attempt = 0; attempt < 5; attempt++) assert.equal((await device.findByUserCode(userCode, 'a')).kind, 'found')
    assert.equal((await device.findByUserCode('not it', 'a')).kind, 'malformed')
    const wrong = userCode === 'BBBB-BBBB' ? 'CCCC-CCCC' : 'BBBB-BBBB'
    assert.equal((await device.findByUserCode(wrong, 'a')).kind, 'unknown')
    assert.equal((await device.findByUserCode(wrong, 'a')).kind, 'unknown')
    assert.deepEqual(await device.findByUserCode(wrong, 'a'), { kind: 'throttled', retryAfter: 30 })
    assert.deepEqual(await device.findByUserCode(userCode, 'a'), { kind: 'throttled', retryAfter: 30 })
    assert.equal((await device.findByUserCode(userCode, 'b')).kind, 'found')
    clock.advance(600_000)
    assert.equal((await device.findByUserCode(userCode, 'a')).kind, 'expired')
  })
})
