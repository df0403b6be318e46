import type { Logger } from 'pino'
import type { Clock } from '../core/clock.js'
import { DEFAULT_LOCKOUT_POLICY, type LoginLockout, type RateLimiter } from '../core/abuse/limits.js'
import type { LimitsConfig } from './limits-config.js'
import { MemoryLockout } from './memory-lockout.js'
import { MemoryRateLimiter } from './memory-rate-limiter.js'
import { RedisLimits } from './redis-limits.js'

export interface OpenLimits {
  limiter: RateLimiter
  lockout: LoginLockout | null
  close(): Promise<void>
}

/** Redis errors are logged at most this often; each one still counts in the metrics. */
const LOG_EVERY_MS = 10_000

/** In memory, or shared through Redis when GATEHOUSE_REDIS_URL is set. */
export function openLimits(config: LimitsConfig, deps: { clock: Clock; logger: Logger; onBackendError?: () => void }): OpenLimits {
  if (config.redisUrl === undefined) {
    return {
      limiter: new MemoryRateLimiter(deps.clock),
      lockout: config.lockout ? new MemoryLockout(deps.clock, config.lockout) : null,
      close: async () => {},
    }
  }
  let lastLogged = 0
  const redis = new RedisLimits({
    url: config.redisUrl,
    prefix: config.redisPrefix,
    clock: deps.clock,
    lockout: config.lockout ?? DEFAULT_LOCKOUT_POLICY,
    onError: (error) => {
      deps.onBackendError?.()
      const now = Date.now()
      if (now - lastLogged < LOG_EVERY_MS) return
      lastLogged = now
      deps.logger.warn({ err: error }, 'Redis (shared rate limits) is unreachable: limits hold per instance until it is back')
    },
  })
  return { limiter: redis.limiter, lockout: config.lockout ? redis.lockout : null, close: () => redis.close() }
}
