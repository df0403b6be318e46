import { BoundedMap } from '../core/bounded-map.js'
import type { Clock } from '../core/clock.js'
import { LOCKOUT_ADDRESS_SEPARATOR, nextLockoutState, secondsUntil, type LockoutPolicy, type LockoutState, type LoginLockout } from '../core/abuse/limits.js'

const MAX_ENTRIES = 100_000

/**
 * Username lockout in this process (one instance, or tests). At most MAX_ENTRIES names are
 * remembered, least recently used first out; a name that is locked or has been locked (its lock
 * level still counts) is passed over while others can go, so a flood of new names cannot wipe
 * the lock on the name under attack.
 */
export class MemoryLockout implements LoginLockout {
  readonly #clock: Clock
  readonly #policy: LockoutPolicy
  readonly #states: BoundedMap<string, LockoutState>

  constructor(clock: Clock, policy: LockoutPolicy, capacity = MAX_ENTRIES) {
    this.#clock = clock
    this.#policy = policy
    this.#states = new BoundedMap(capacity, { keep: (state) => this.#worthKeeping(state) })
  }

  async lockedFor(username: string): Promise<number> {
    const state = this.#states.get(username)
    return state ? secondsUntil(state.lockedUntil, this.#clock.now()) : 0
  }

  async recordFailure(username: string): Promise<number> {
    const now = this.#clock.now()
    const { state, lockedMs } = nextLockoutState(this.#policy, this.#states.peek(username), now)
    this.#states.set(username, state)
    return lockedMs
  }

  async reset(username: string): Promise<void> {
    const state = this.#states.peek(username)
    if (!state) return
    if (state.lockLevel === 0) this.#states.delete(username)
    else this.#states.set(username, { ...state, failures: 0, windowStart: this.#clock.now() })
  }

  async clear(username: string): Promise<number> {
    let left = await this.lockedFor(username)
    this.#states.delete(username)
    // The per-address entries of the name (AbuseGuard's lockout keys) go too.
    const prefix = `${username}${LOCKOUT_ADDRESS_SEPARATOR}`
    for (const [key, state] of [...this.#states.entries()]) {
      if (!key.startsWith(prefix)) continue
      left = Math.max(left, secondsUntil(state.lockedUntil, this.#clock.now()))
      this.#states.delete(key)
    }
    return left
  }

  /** A live lock, or a lock level not yet forgotten (the next lock would be longer). */
  #worthKeeping(state: LockoutState): boolean {
    const now = this.#clock.now()
    return state.lockedUntil > now || (state.lockLevel > 0 && now - state.lastFailure <= this.#policy.forgetAfterMs)
  }
}
