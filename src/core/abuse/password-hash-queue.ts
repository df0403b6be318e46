import { OAuthError } from '../errors.js'

/** How much password hashing may run at once, and how much may wait. */
export interface PasswordHashLimits {
  /** Hashes running at once (argon2 runs on libuv's thread pool; more than the cores only queues there). */
  concurrency: number
  /** Hashes one source (a client address) may have waiting; beyond it, 503 with Retry-After. */
  perSource: number
  /** Hashes that may wait in all; beyond it, 503 with Retry-After. */
  total: number
}

export const DEFAULT_PASSWORD_HASH_LIMITS: PasswordHashLimits = { concurrency: 1, perSource: 32, total: 256 }

/** RFC 6749 §4.1.2.1 temporarily_unavailable: the dialects answer 503 with Retry-After. */
const busy = (debug: string): OAuthError =>
  new OAuthError('temporarily_unavailable', { description: 'The server is busy; retry shortly.', debug, retryAfter: 1 })

/**
 * Password checks (argon2id, ~20 ms of a core each) take turns by source: waiting checks are
 * served round-robin, one per source in turn, so a flood of sign-ins from one address waits
 * behind itself while a person's sign-in from another address waits for at most one check of
 * each other busy source. A source may keep only `perSource` checks waiting, and all of them
 * together `total`; beyond that a check is refused at once (503) instead of queueing without
 * bound. The queue is per process: each instance protects its own cores.
 */
export class PasswordHashQueue {
  readonly #limits: PasswordHashLimits
  #running = 0
  #waiting = 0
  /** Waiting checks per source; a Map keeps insertion order, which is the round-robin order. */
  readonly #sources = new Map<string, (() => void)[]>()
  /** Checks running per source: a source with none running goes before one that has some. */
  readonly #runningBySource = new Map<string, number>()

  constructor(limits: PasswordHashLimits = DEFAULT_PASSWORD_HASH_LIMITS) {
    this.#limits = limits
  }

  /** Runs `work` (one password hash or verification) when `source`'s turn comes. */
  async run<T>(source: string, work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limits.concurrency || this.#waiting > 0) await this.#wait(source)
    else this.#running++
    this.#runningBySource.set(source, (this.#runningBySource.get(source) ?? 0) + 1)
    try {
      return await work()
    } finally {
      // The next turn is chosen while this source still counts as running, so a source with
      // nothing running (a person's one sign-in) goes before this one's next check.
      this.#startNext()
      const left = (this.#runningBySource.get(source) ?? 1) - 1
      if (left === 0) this.#runningBySource.delete(source)
      else this.#runningBySource.set(source, left)
    }
  }

  /**
   * Whether a check from `source` would be refused now (its queue or the whole queue is full):
   * lets the HTTP layer refuse a flood's request before reading its body or rendering a page.
   */
  full(source: string): boolean {
    return (this.#sources.get(source)?.length ?? 0) >= this.#limits.perSource || this.#waiting >= this.#limits.total
  }

  get stats(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiting }
  }

  #wait(source: string): Promise<void> {
    const queue = this.#sources.get(source) ?? []
    if (queue.length >= this.#limits.perSource) throw busy(`source ${source} has ${queue.length} password checks waiting`)
    if (this.#waiting >= this.#limits.total) throw busy(`${this.#waiting} password checks waiting`)
    const turn = new Promise<void>((resolve) => queue.push(resolve))
    if (queue.length === 1) this.#sources.set(source, queue)
    this.#waiting++
    return turn
  }

  /**
   * The finished check's slot goes to the next source in turn (which then moves to the back),
   * preferring the first waiting source that has no check running: a person's one sign-in
   * goes before the next of a flood's.
   */
  #startNext(): void {
    let next: [string, (() => void)[]] | undefined
    for (const entry of this.#sources) {
      next ??= entry
      if (!this.#runningBySource.has(entry[0])) {
        next = entry
        break
      }
    }
    if (!next) {
      this.#running--
      return
    }
    const [source, queue] = next
    const start = queue.shift()
    this.#sources.delete(source)
    if (queue.length > 0) this.#sources.set(source, queue)
    this.#waiting--
    start?.()
  }
}
