import { BoundedMap } from '../core/bounded-map.js'
import type { Clock } from '../core/clock.js'
import type { RateLimit, RateLimiter } from '../core/abuse/limits.js'

interface Bucket {
  points: number
  at: number
}

/** Buckets kept at most this many, least recently used first out. */
const MAX_BUCKETS = 100_000

type StoredBucket = Bucket & { periodMs: number; capacity: number }

/**
 * Token buckets in this process: one Map lookup per request. Buckets that refilled are swept
 * now and then; past MAX_BUCKETS the least recently used goes, but a bucket more than half
 * spent (a caller being limited) is passed over while others can go, so a flood of new keys
 * does not hand the limited caller a full bucket again.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #clock: Clock
  readonly #buckets: BoundedMap<string, StoredBucket>
  #untilSweep = 10_000

  constructor(clock: Clock, capacity = MAX_BUCKETS) {
    this.#clock = clock
    this.#buckets = new BoundedMap(capacity, { keep: (bucket) => this.#spent(bucket) })
  }

  consume(key: string, limit: RateLimit): number {
    return this.take(key, limit)
  }

  /** The synchronous step (the Redis limiter falls back to it when Redis is unreachable). */
  take(key: string, limit: RateLimit): number {
    const now = this.#clock.now()
    const rate = limit.points / limit.periodMs
    // A bucket moves to the recent end of the LRU order at most once a second: a busy one would
    // otherwise pay a Map delete and set on every request for the same place.
    let bucket = this.#buckets.peek(key)
    if (bucket && now - bucket.at >= 1000) this.#buckets.get(key)
    if (!bucket) {
      if (--this.#untilSweep <= 0) this.#sweep(now)
      bucket = { points: limit.points, at: now, periodMs: limit.periodMs, capacity: limit.points }
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
    for (const [key, bucket] of this.#buckets.entries()) if (now - bucket.at >= bucket.periodMs) this.#buckets.delete(key)
  }

  /** More than half of the bucket is spent, counting what has refilled since. */
  #spent(bucket: StoredBucket): boolean {
    const refilled = bucket.points + Math.max(0, this.#clock.now() - bucket.at) * (bucket.capacity / bucket.periodMs)
    return refilled < bucket.capacity / 2
  }
}
