import { availableParallelism } from 'node:os'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, loadConfig } from '../../src/config.js'
import { ManualClock } from '../../src/core/clock.js'
import { DEFAULT_LOCKOUT_POLICY } from '../../src/core/abuse/limits.js'
import { MemoryRateLimiter } from '../../src/limits/memory-rate-limiter.js'

const load = (env: Record<string, string>) => loadConfig({}, { GATEHOUSE_DATA_DIR: '/tmp', ...env }).limits

describe('rate limit and lockout settings', () => {
  it('has sensible defaults, in memory', () => {
    assert.deepEqual(load({}), {
      ip: { points: 3000, periodMs: 60_000 },
      client: { points: 6000, periodMs: 60_000 },
      apiKey: { points: 1200, periodMs: 60_000 },
      credentialFailures: { points: 20, periodMs: 60_000 },
      lockout: { ...DEFAULT_LOCKOUT_POLICY, maxFailures: 5, windowMs: 15 * 60_000, baseLockMs: 5 * 60_000, maxLockMs: 60 * 60_000 },
      redisUrl: undefined,
      redisPrefix: 'gatehouse:',
      slowdownMs: 1000,
      passwordChecks: { concurrency: Math.max(1, availableParallelism() - 1), perSource: 32, total: 256 },
    })
  })

  it('reads the password check limits and refuses what is not a whole number above 0', () => {
    assert.deepEqual(load({ GATEHOUSE_PASSWORD_CHECKS: '4', GATEHOUSE_PASSWORD_CHECKS_PER_SOURCE: '1', GATEHOUSE_PASSWORD_CHECKS_QUEUE: '10' }).passwordChecks, { concurrency: 4, perSource: 1, total: 10 })
    assert.throws(() => load({ GATEHOUSE_PASSWORD_CHECKS: '0' }), /GATEHOUSE_PASSWORD_CHECKS must be a whole number above 0, not "0"/)
    assert.throws(() => load({ GATEHOUSE_PASSWORD_CHECKS_QUEUE: '1.5' }), /GATEHOUSE_PASSWORD_CHECKS_QUEUE must be a whole number above 0/)
  })

  it('reads COUNT/PERIOD, off, durations and the Redis URL', () => {
    const limits = load({
      GATEHOUSE_RATE_LIMIT_IP: '10/30s',
      GATEHOUSE_RATE_LIMIT_CLIENT: 'off',
      GATEHOUSE_LOCKOUT: '3/1h',
      GATEHOUSE_LOCKOUT_DURATION: '90s',
      GATEHOUSE_LOCKOUT_MAX_DURATION: '2h',
      GATEHOUSE_REDIS_URL: 'redis://cache:6379/2',
    })
    assert.deepEqual(limits.ip, { points: 10, periodMs: 30_000 })
    assert.equal(limits.client, null)
    assert.deepEqual({ ...limits.lockout }, { ...DEFAULT_LOCKOUT_POLICY, maxFailures: 3, windowMs: 3_600_000, baseLockMs: 90_000, maxLockMs: 7_200_000 })
    assert.equal(limits.redisUrl, 'redis://cache:6379/2')
    assert.equal(load({ GATEHOUSE_LOCKOUT: 'off' }).lockout, null)
  })

  it('refuses a malformed setting with a message that names it', () => {
    const cases: [Record<string, string>, string][] = [
      [{ GATEHOUSE_RATE_LIMIT_IP: 'lots' }, 'GATEHOUSE_RATE_LIMIT_IP must look like 600/1m (count/period) or be off (got "lots")'],
      [{ GATEHOUSE_RATE_LIMIT_FAILURES: '5/fortnight' }, 'GATEHOUSE_RATE_LIMIT_FAILURES must look like 600/1m (count/period) or be off (got "5/fortnight")'],
      [{ GATEHOUSE_LOCKOUT_DURATION: 'soon' }, 'GATEHOUSE_LOCKOUT_DURATION must be a duration like 30s, 5m or 1h (got "soon")'],
      [{ GATEHOUSE_LOCKOUT_DURATION: '2h', GATEHOUSE_LOCKOUT_MAX_DURATION: '1h' }, 'GATEHOUSE_LOCKOUT_MAX_DURATION must not be shorter than GATEHOUSE_LOCKOUT_DURATION'],
      [{ GATEHOUSE_REDIS_URL: 'http://cache:6379' }, 'GATEHOUSE_REDIS_URL must be a redis:// or rediss:// URL'],
    ]
    for (const [env, message] of cases) assert.throws(() => load(env), (error: unknown) => error instanceof ConfigError && error.message === message)
  })
})

describe('the in-memory token bucket', () => {
  it('allows a burst, then one request per refill interval, and says how long to wait', async () => {
    const clock = new ManualClock()
    const limiter = new MemoryRateLimiter(clock)
    const limit = { points: 2, periodMs: 10_000 }
    assert.deepEqual([await limiter.consume('k', limit), await limiter.consume('k', limit), await limiter.consume('k', limit)], [0, 0, 5])
    clock.advance(4_000)
    assert.equal(await limiter.consume('k', limit), 1)
    clock.advance(1_000)
    assert.equal(await limiter.consume('k', limit), 0)
    assert.equal(await limiter.consume('other', limit), 0, 'buckets are per key')
  })
})
