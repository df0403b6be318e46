import type { Clock } from '../core/clock.js'
import type { RateLimit, RateLimiter } from '../core/abuse/limits.js'

interface Bucket {
  points: number
  at: number
}

/** Buckets kept at most this many; past it, idle (full) buckets are swept, then all if need be. */
const MAX_BUCKETS = 100_000

/**
 * Token buckets in this process: one Map lookup per request. Buckets that refilled are swept
 * now and then, so many source addresses do not grow memory without bound.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #clock: Clock
  readonly #buckets = new Map<string, Bucket & { periodMs: number }>()
  #untilSweep = 10_000

  constructor(clock: Clock) {
    this.#clock = clock
  }

  consume(key: string, limit: RateLimit): number {
    return this.take(key, limit)
  }

  /** The synchronous step (the Redis limiter falls back to it when Redis is unreachable). */
  take(key: string, limit: RateLimit): number {
    const now = this.#clock.now()
    const rate = limit.points / limit.periodMs
    let bucket = this.#buckets.get(key)
    if (!bucket) {
      if (--this.#untilSweep <= 0 || this.#buckets.size >= MAX_BUCKETS) this.#sweep(now)
      bucket = { points: limit.points, at: now, periodMs: limit.periodMs }
      this.#buckets.set(key, bucket)
    } else {
      bucket.points = Math.min(limit.points, bucket.points + Math.max(0, now - bucket.at) * rate)
      bucket.at = now
    }
    if (bucket.points >= 1) {
      bucket.points -= 1
      return 0
    }
    return Math.max(1, Math.ceil((1 - bucket.points) / rate / 1000))
  }

  get size(): number {
    return this.#buckets.size
  }

  /** A bucket untouched for a whole period is full again: forgetting it changes nothing. */
  #sweep(now: number): void {
    this.#untilSweep = 10_000
    for (const [key, bucket] of this.#buckets) if (now - bucket.at >= bucket.periodMs) this.#buckets.delete(key)
    if (this.#buckets.size >= MAX_BUCKETS) this.#buckets.clear()
  }
}
