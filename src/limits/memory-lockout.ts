import type { Clock } from '../core/clock.js'
import { nextLockoutState, secondsUntil, type LockoutPolicy, type LockoutState, type LoginLockout } from '../core/abuse/limits.js'

const MAX_ENTRIES = 100_000

/** Username lockout in this process (one instance, or tests). */
export class MemoryLockout implements LoginLockout {
  readonly #clock: Clock
  readonly #policy: LockoutPolicy
  readonly #states = new Map<string, LockoutState>()

  constructor(clock: Clock, policy: LockoutPolicy) {
    this.#clock = clock
    this.#policy = policy
  }

  async lockedFor(username: string): Promise<number> {
    const state = this.#states.get(username)
    return state ? secondsUntil(state.lockedUntil, this.#clock.now()) : 0
  }

  async recordFailure(username: string): Promise<number> {
    const now = this.#clock.now()
    if (!this.#states.has(username) && this.#states.size >= MAX_ENTRIES) this.#sweep(now)
    const { state, lockedMs } = nextLockoutState(this.#policy, this.#states.get(username), now)
    this.#states.set(username, state)
    return lockedMs
  }

  async reset(username: string): Promise<void> {
    const state = this.#states.get(username)
    if (!state) return
    if (state.lockLevel === 0) this.#states.delete(username)
    else this.#states.set(username, { ...state, failures: 0, windowStart: this.#clock.now() })
  }

  async clear(username: string): Promise<number> {
    const left = await this.lockedFor(username)
    this.#states.delete(username)
    return left
  }

  /** Forgets names with no lock and no failure in the forget period. */
  #sweep(now: number): void {
    for (const [name, state] of this.#states) {
      if (state.lockedUntil <= now && now - state.lastFailure > Math.min(this.#policy.windowMs, this.#policy.forgetAfterMs)) this.#states.delete(name)
    }
    if (this.#states.size >= MAX_ENTRIES) this.#states.clear()
  }
}
