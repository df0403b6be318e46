/**
 * Rate limits and login lockout, as the engine sees them: interfaces only. The state lives in
 * memory on one instance or in Redis across instances (src/limits/); the engine never knows which.
 */

/** A token bucket: `points` requests per `periodMs`, with bursts of up to `points`. */
export interface RateLimit {
  points: number
  periodMs: number
}

/** Token buckets keyed by a string (e.g. `client:ID`, `ip:ADDRESS`). */
export interface RateLimiter {
  /**
   * Takes one point from the bucket `key`: 0 when taken, else the whole seconds until one is free.
   * A plain number when the answer is known at once (buckets in memory), so the hot path of
   * every request need not wait a turn of the event loop for it.
   */
  consume(key: string, limit: RateLimit): number | Promise<number>
  close?(): Promise<void>
}

/** Brute-force protection for one login name: N failures in a window lock it for a growing time. */
export interface LockoutPolicy {
  /** Failures within `windowMs` that lock the username. Default 5. */
  maxFailures: number
  /** Default 15 minutes. */
  windowMs: number
  /** The first lock; each further lock doubles it, up to `maxLockMs`. */
  baseLockMs: number
  maxLockMs: number
  /** After this long without a failure the lock level starts over. */
  forgetAfterMs: number
}

export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = {
  maxFailures: 5,
  windowMs: 15 * 60_000,
  baseLockMs: 5 * 60_000,
  maxLockMs: 60 * 60_000,
  forgetAfterMs: 24 * 60 * 60_000,
}

/**
 * Lockout keys per (username, address) are `username + LOCKOUT_ADDRESS_SEPARATOR + address`
 * (AbuseGuard); `LoginLockout.clear` of the username drops them too.
 */
export const LOCKOUT_ADDRESS_SEPARATOR = '\u0000'

/** Failed-attempt state per username (existing or not: the state must not tell them apart). */
export interface LoginLockout {
  /** Whole seconds the username stays locked; 0 when it is not locked. */
  lockedFor(username: string): Promise<number>
  /** Counts a failed attempt; returns the seconds of the lock it started, or 0. */
  recordFailure(username: string): Promise<number>
  /**
   * A successful login forgets the failures counted so far, not the lock level: that decays
   * only after `forgetAfterMs` without failures, so an attack that pauses for a login still
   * meets a longer lock next time.
   */
  reset(username: string): Promise<void>
  /**
   * Forgets the username's failures, lock and lock level at once, and those of every entry kept
   * for it per address (keys `username + LOCKOUT_ADDRESS_SEPARATOR + address`): an operator's unlock. Unlike
   * the other steps it does not fall back to this process's state when the shared one does not
   * answer — an unlock that reached one instance only would not unlock — but rejects with a
   * `LockoutUnavailableError`. Resolves to the whole seconds the lock had left (0: none).
   */
  clear(username: string): Promise<number>
  close?(): Promise<void>
}

/** The shared lockout state could not be reached (an unlock did not happen). */
export class LockoutUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'LockoutUnavailableError'
  }
}

/**
 * The lockout state machine, shared by the in-memory lockout and the Redis script (which
 * implements the same steps atomically). `lockLevel` grows with each lock, so the Nth lock
 * lasts baseLockMs·2^(N-1), capped.
 */
export interface LockoutState {
  failures: number
  windowStart: number
  lockLevel: number
  lockedUntil: number
  lastFailure: number
}

export function lockDuration(policy: LockoutPolicy, level: number): number {
  return Math.min(policy.maxLockMs, policy.baseLockMs * 2 ** Math.max(0, level - 1))
}

/** One failed attempt at `now`: the next state and the lock (ms) it started, if any. */
export function nextLockoutState(policy: LockoutPolicy, state: LockoutState | undefined, now: number): { state: LockoutState; lockedMs: number } {
  const next: LockoutState = state ? { ...state } : { failures: 0, windowStart: now, lockLevel: 0, lockedUntil: 0, lastFailure: now }
  if (now - next.lastFailure > policy.forgetAfterMs) next.lockLevel = 0
  if (now - next.windowStart > policy.windowMs) {
    next.failures = 0
    next.windowStart = now
  }
  next.failures += 1
  next.lastFailure = now
  if (next.failures < policy.maxFailures) return { state: next, lockedMs: 0 }
  next.lockLevel += 1
  const lockedMs = lockDuration(policy, next.lockLevel)
  next.lockedUntil = now + lockedMs
  next.failures = 0
  next.windowStart = now
  return { state: next, lockedMs }
}

export const secondsUntil = (until: number, now: number): number => (until > now ? Math.ceil((until - now) / 1000) : 0)
