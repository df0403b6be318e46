import type { RateLimit, RateLimiter } from '../abuse/limits.js'
import { BoundedMap } from '../bounded-map.js'
import type { Clock } from '../clock.js'

/** How many user codes that match no pending authorization may be typed; null switches one off. */
export interface UserCodeLimits {
  /** Failed lookups from one source address: a burst of `points`, then `points` per `periodMs`. */
  perSource: RateLimit | null
  /** Failed lookups from every address together: what bounds guessing from many addresses. */
  global: RateLimit | null
}

/**
 * RFC 8628 §5.1: a user code has 20^8 ≈ 2^34.6 values, so the verification page must limit
 * guesses. Ten wrong codes from an address, then one a minute; a hundred a minute from everywhere.
 */
export const DEFAULT_USER_CODE_LIMITS: UserCodeLimits = {
  perSource: { points: 10, periodMs: 10 * 60_000 },
  global: { points: 100, periodMs: 60_000 },
}

/** Addresses kept blocked in memory at most (the counts themselves live in the RateLimiter). */
const MAX_BLOCKED = 10_000
const GLOBAL = 'global'

/**
 * Counts failed user-code lookups (a code that matches no pending authorization) in the shared
 * token buckets (the RateLimiter: in memory, or Redis across instances), and keeps the addresses
 * whose bucket ran dry blocked in this process until it refills, so the next guess is refused
 * before any lookup. Only failures spend the budget: a person who types their code right is
 * never counted. Across instances a blocked address can make one more guess on each other
 * instance before that one blocks it too; the buckets stay exact.
 */
export class UserCodeThrottle {
  readonly #limiter: RateLimiter
  readonly #clock: Clock
  readonly #limits: UserCodeLimits
  readonly #blockedUntil: BoundedMap<string, number>

  constructor(deps: { limiter: RateLimiter; clock: Clock }, limits: UserCodeLimits = DEFAULT_USER_CODE_LIMITS) {
    this.#limiter = deps.limiter
    this.#clock = deps.clock
    this.#limits = limits
    // A live block is worth more than its age: a flood of fresh addresses must not push it out.
    this.#blockedUntil = new BoundedMap(MAX_BLOCKED, { keep: (until) => until > this.#clock.now() })
  }

  /** Whole seconds `source` must wait before its next lookup; 0 when it may look up now. */
  waitFor(source: string): number {
    const now = this.#clock.now()
    const until = Math.max(this.#blockedUntil.peek(`source:${source}`) ?? 0, this.#blockedUntil.peek(GLOBAL) ?? 0)
    return until > now ? Math.ceil((until - now) / 1000) : 0
  }

  /** Counts a failed lookup from `source`; the whole seconds to wait when it crossed a limit, else 0. */
  async failed(source: string): Promise<number> {
    const [perSource, global] = await Promise.all([this.#take(`device_user_code:source:${source}`, this.#limits.perSource), this.#take('device_user_code:global', this.#limits.global)])
    const now = this.#clock.now()
    if (perSource > 0) this.#blockedUntil.set(`source:${source}`, now + perSource * 1000)
    if (global > 0) this.#blockedUntil.set(GLOBAL, now + global * 1000)
    return Math.max(perSource, global)
  }

  async #take(key: string, limit: RateLimit | null): Promise<number> {
    return limit === null ? 0 : this.#limiter.consume(key, limit)
  }
}
