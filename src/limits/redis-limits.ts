import { Redis } from 'ioredis'
import type { Clock } from '../core/clock.js'
import { LOCKOUT_ADDRESS_SEPARATOR, LockoutUnavailableError, secondsUntil, type LockoutPolicy, type LoginLockout, type RateLimit, type RateLimiter } from '../core/abuse/limits.js'
import { MemoryLockout } from './memory-lockout.js'
import { MemoryRateLimiter } from './memory-rate-limiter.js'

/**
 * One token bucket, taken atomically: refill for the time passed, take a point or say how many
 * seconds until one is free. `now` comes from the caller's Clock (so tests control time); the
 * bucket expires once it would be full again.
 */
const TAKE = `
local now = tonumber(ARGV[1])
local points = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local rate = points / period
local b = redis.call('HMGET', KEYS[1], 'p', 't')
local p = tonumber(b[1])
local t = tonumber(b[2])
if p == nil or t == nil then p = points; t = now end
if now > t then p = math.min(points, p + (now - t) * rate); t = now end
local wait = 0
if p >= 1 then p = p - 1 else wait = math.max(1, math.ceil((1 - p) / rate / 1000)) end
redis.call('HSET', KEYS[1], 'p', string.format('%.6f', p), 't', string.format('%.0f', t))
redis.call('PEXPIRE', KEYS[1], math.ceil(period))
return wait
`

/** The lockout step of src/core/abuse/limits.ts (nextLockoutState), atomically in Redis. */
const FAIL = `
local now = tonumber(ARGV[1])
local maxFailures = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local base = tonumber(ARGV[4])
local maxLock = tonumber(ARGV[5])
local forget = tonumber(ARGV[6])
local s = redis.call('HMGET', KEYS[1], 'f', 'ws', 'lvl', 'until', 'last')
local f = tonumber(s[1]) or 0
local ws = tonumber(s[2]) or now
local lvl = tonumber(s[3]) or 0
local lockedUntil = tonumber(s[4]) or 0
local last = tonumber(s[5]) or now
if now - last > forget then lvl = 0 end
if now - ws > window then f = 0; ws = now end
f = f + 1
last = now
local locked = 0
if f >= maxFailures then
  lvl = lvl + 1
  locked = math.min(maxLock, base * 2 ^ (lvl - 1))
  lockedUntil = now + locked
  f = 0
  ws = now
end
redis.call('HSET', KEYS[1], 'f', f, 'ws', string.format('%.0f', ws), 'lvl', lvl, 'until', string.format('%.0f', lockedUntil), 'last', string.format('%.0f', last))
redis.call('PEXPIRE', KEYS[1], math.ceil(math.max(forget, lockedUntil - now)))
return locked
`

/** LoginLockout.reset: forget the failures, keep the lock level (it decays on its own). */
const RESET = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if (tonumber(redis.call('HGET', KEYS[1], 'lvl')) or 0) == 0 then return redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[1], 'f', 0, 'ws', ARGV[1])
return 1
`

interface Scripts {
  gatehouseReset(key: string, now: number): Promise<number>
  gatehouseTake(key: string, now: number, points: number, periodMs: number): Promise<number>
  gatehouseFail(key: string, now: number, ...policy: number[]): Promise<number>
}

export interface RedisLimitsOptions {
  url: string
  clock: Clock
  lockout: LockoutPolicy
  /** Key prefix, so several deployments can share one Redis. */
  prefix?: string
  /** Redis trouble: logged by the caller (rate-limited there); the limits then hold per instance. */
  onError: (error: unknown) => void
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
async function connected(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady)
      reject(new Error(`Redis not ready within ${timeoutMs} ms (status ${redis.status})`))
    }, timeoutMs)
    const onReady = (): void => {
      clearTimeout(timer)
      resolve()
    }
    redis.once('ready', onReady)
  })
}

/**
 * Rate limits and lockout shared by every instance through one Redis: one script call (one
 * round trip, pipelined with concurrent requests by ioredis) per check. When Redis does not
 * answer within `commandTimeout`, the check falls back to this instance's own state rather
 * than refusing service or hanging: limits hold per instance until Redis is back.
 */
export class RedisLimits {
  readonly redis: Redis
  readonly limiter: RateLimiter
  readonly lockout: LoginLockout

  constructor(options: RedisLimitsOptions) {
    const prefix = options.prefix ?? 'gatehouse:'
    const redis = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 500,
      enableAutoPipelining: true,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    })
    redis.on('error', options.onError)
    redis.defineCommand('gatehouseTake', { numberOfKeys: 1, lua: TAKE })
    redis.defineCommand('gatehouseFail', { numberOfKeys: 1, lua: FAIL })
    redis.defineCommand('gatehouseReset', { numberOfKeys: 1, lua: RESET })
    this.redis = redis
    const scripts = redis as unknown as Scripts
    const { clock, lockout: policy } = options
    const localLimiter = new MemoryRateLimiter(clock)
    const localLockout = new MemoryLockout(clock, policy)
    const fallback = <T>(local: () => T | Promise<T>) => (error: unknown): T | Promise<T> => {
      options.onError(error)
      return local()
    }

    this.limiter = {
      consume: (key: string, limit: RateLimit) =>
        scripts.gatehouseTake(`${prefix}rl:${key}`, clock.now(), limit.points, limit.periodMs).catch(fallback(() => localLimiter.take(key, limit))),
    }
    this.lockout = {
      lockedFor: async (username) => {
        try {
          const until = await redis.hget(`${prefix}lockout:${username}`, 'until')
          return secondsUntil(Number(until ?? 0), clock.now())
        } catch (error) {
          return fallback(() => localLockout.lockedFor(username))(error)
        }
      },
      recordFailure: (username) =>
        scripts
          .gatehouseFail(`${prefix}lockout:${username}`, clock.now(), policy.maxFailures, policy.windowMs, policy.baseLockMs, policy.maxLockMs, policy.forgetAfterMs)
          .catch(fallback(() => localLockout.recordFailure(username))),
      // HSET on an absent key would create it: only touch a name that has failures.
      reset: async (username) => {
        await scripts.gatehouseReset(`${prefix}lockout:${username}`, clock.now()).catch(fallback(() => localLockout.reset(username)))
      },
      // An operator's step, off the hot path: wait for the connection (a one-shot command has
      // only just opened it). The local state goes too: it holds what was counted while Redis was away.
      clear: async (username) => {
        const localLeft = await localLockout.clear(username)
        try {
          await connected(redis, 2000)
          const key = `${prefix}lockout:${username}`
          // The name's per-address entries too (AbuseGuard's lockout keys): found by SCAN, the
          // name's glob characters escaped.
          const keys = [key]
          const pattern = `${key.replace(/[?*[\]\\]/g, (c) => `\\${c}`)}${LOCKOUT_ADDRESS_SEPARATOR}*`
          for await (const batch of redis.scanStream({ match: pattern, count: 500 }) as AsyncIterable<string[]>) keys.push(...batch)
          let left = localLeft
          for (const each of keys) {
            const results = await redis.multi().hget(each, 'until').del(each).exec()
            left = Math.max(left, secondsUntil(Number(results?.[0]?.[1] ?? 0), clock.now()))
          }
          return left
        } catch (error) {
          options.onError(error)
          throw new LockoutUnavailableError('the shared lockout (Redis) does not answer; the user is still locked on other instances', { cause: error })
        }
      },
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect()
  }
}
