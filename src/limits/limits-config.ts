import { availableParallelism } from 'node:os'
import { DEFAULT_LOCKOUT_POLICY, type LockoutPolicy, type RateLimit } from '../core/abuse/limits.js'
import type { IdentityLimits } from '../core/abuse/abuse-guard.js'
import type { PasswordHashLimits } from '../core/abuse/password-hash-queue.js'

/** Rate limits and lockout as configured (docs/operations.md); null switches one off. */
export interface LimitsConfig extends IdentityLimits {
  /** Requests from one source address to the token, introspection, revocation and management routes. */
  ip: RateLimit | null
  lockout: LockoutPolicy | null
  /** Shared state across instances; undefined keeps it in each process. */
  redisUrl: string | undefined
  /** GATEHOUSE_REDIS_PREFIX: key prefix, so deployments (or test runs) can share one Redis. */
  redisPrefix: string
  /** Password checks at once, and waiting per source address and in all (PasswordHashQueue). */
  passwordChecks: PasswordHashLimits
  /** GATEHOUSE_LOCKOUT_SLOWDOWN: the wait of each login for a username past its ceiling (failures from every address). */
  slowdownMs: number
}

export const DEFAULT_LIMITS = {
  GATEHOUSE_RATE_LIMIT_IP: '3000/1m',
  GATEHOUSE_RATE_LIMIT_CLIENT: '6000/1m',
  GATEHOUSE_RATE_LIMIT_API_KEY: '1200/1m',
  GATEHOUSE_RATE_LIMIT_FAILURES: '20/1m',
  GATEHOUSE_LOCKOUT: '5/15m',
  GATEHOUSE_LOCKOUT_DURATION: '5m',
  GATEHOUSE_LOCKOUT_MAX_DURATION: '1h',
  GATEHOUSE_LOCKOUT_SLOWDOWN: '1s',
  GATEHOUSE_PASSWORD_CHECKS: 'auto',
  GATEHOUSE_PASSWORD_CHECKS_PER_SOURCE: '32',
  GATEHOUSE_PASSWORD_CHECKS_QUEUE: '256',
} as const

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

export class LimitsConfigError extends Error {}

/** `5m`, `30s`, `1h`, `250ms`: a duration in ms. */
export function parseDuration(name: string, value: string): number {
  const match = /^(\d+)\s*(ms|s|m|h)$/.exec(value.trim())
  const ms = match ? Number(match[1]) * (UNITS[match[2] as string] as number) : NaN
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new LimitsConfigError(`${name} must be a duration like 30s, 5m or 1h (got "${value}")`)
  return ms
}

/** `600/1m`: 600 requests a minute (bursts of up to 600); `off` switches the limit off. */
export function parseRate(name: string, value: string): RateLimit | null {
  if (value.trim().toLowerCase() === 'off') return null
  const [count = '', period = ''] = value.split('/')
  const points = Number(count.trim())
  const periodMs = /^\s*\d+\s*(ms|s|m|h)\s*$/.test(period) ? parseDuration(name, period) : NaN
  if (!Number.isSafeInteger(points) || points < 1 || Number.isNaN(periodMs)) {
    throw new LimitsConfigError(`${name} must look like 600/1m (count/period) or be off (got "${value}")`)
  }
  return { points, periodMs }
}

export function loadLimits(env: NodeJS.ProcessEnv): LimitsConfig {
  const read = (name: keyof typeof DEFAULT_LIMITS): string => {
    const value = env[name]
    return value === undefined || value === '' ? DEFAULT_LIMITS[name] : value
  }
  const lockout = parseRate('GATEHOUSE_LOCKOUT', read('GATEHOUSE_LOCKOUT'))
  const baseLockMs = parseDuration('GATEHOUSE_LOCKOUT_DURATION', read('GATEHOUSE_LOCKOUT_DURATION'))
  const maxLockMs = parseDuration('GATEHOUSE_LOCKOUT_MAX_DURATION', read('GATEHOUSE_LOCKOUT_MAX_DURATION'))
  if (maxLockMs < baseLockMs) throw new LimitsConfigError('GATEHOUSE_LOCKOUT_MAX_DURATION must not be shorter than GATEHOUSE_LOCKOUT_DURATION')
  const redisUrl = env.GATEHOUSE_REDIS_URL === '' ? undefined : env.GATEHOUSE_REDIS_URL
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) throw new LimitsConfigError(`GATEHOUSE_REDIS_URL must be a redis:// or rediss:// URL`)
  return {
    ip: parseRate('GATEHOUSE_RATE_LIMIT_IP', read('GATEHOUSE_RATE_LIMIT_IP')),
    client: parseRate('GATEHOUSE_RATE_LIMIT_CLIENT', read('GATEHOUSE_RATE_LIMIT_CLIENT')),
    apiKey: parseRate('GATEHOUSE_RATE_LIMIT_API_KEY', read('GATEHOUSE_RATE_LIMIT_API_KEY')),
    credentialFailures: parseRate('GATEHOUSE_RATE_LIMIT_FAILURES', read('GATEHOUSE_RATE_LIMIT_FAILURES')),
    lockout: lockout && {
      ...DEFAULT_LOCKOUT_POLICY,
      maxFailures: lockout.points,
      windowMs: lockout.periodMs,
      baseLockMs,
      maxLockMs,
    },
    redisUrl,
    redisPrefix: env.GATEHOUSE_REDIS_PREFIX || 'gatehouse:',
    slowdownMs: parseDuration('GATEHOUSE_LOCKOUT_SLOWDOWN', read('GATEHOUSE_LOCKOUT_SLOWDOWN')),
    passwordChecks: {
      // auto: every core but one, which stays free for the event loop (at least 1).
      concurrency: read('GATEHOUSE_PASSWORD_CHECKS') === 'auto' ? Math.max(1, availableParallelism() - 1) : positiveInteger('GATEHOUSE_PASSWORD_CHECKS', read('GATEHOUSE_PASSWORD_CHECKS')),
      perSource: positiveInteger('GATEHOUSE_PASSWORD_CHECKS_PER_SOURCE', read('GATEHOUSE_PASSWORD_CHECKS_PER_SOURCE')),
      total: positiveInteger('GATEHOUSE_PASSWORD_CHECKS_QUEUE', read('GATEHOUSE_PASSWORD_CHECKS_QUEUE')),
    },
  }
}

function positiveInteger(name: string, value: string): number {
  const number = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1) throw new LimitsConfigError(`${name} must be a whole number above 0, not "${value}"`)
  return number
}
