import type { AuditStore } from './audit/audit-store.js'
import type { HousekeepingStore } from './housekeeping-store.js'
import type { Clock } from './clock.js'

export interface HousekeepingOptions {
  /** Pause between runs; 0 turns the background runs off. */
  intervalMs: number
  /** Rows of each kind one statement may delete: small, so no statement holds locks for long. */
  batchSize: number
  /** A run stops after this many batches and goes on at the next interval. */
  maxBatchesPerRun?: number
  /** Audit events older than this are deleted too; 0 (the default) keeps them. */
  auditRetentionMs?: number
  /** A grant is kept this long past its expiry (the longest access token lifetime): its last access tokens still name it. */
  grantGraceMs?: number
}

type Deps = { store: HousekeepingStore & Pick<AuditStore, 'deleteAuditEventsBefore'>; clock: Clock }

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Deletes expired refresh tokens, opaque tokens, revoked-JWT rows, client assertion jti rows and grants, and expired or
 * ended authorization codes, pushed requests, device authorizations and sign-in sessions, in
 * small batches, in the background. In cluster mode only the primary process runs it.
 */
export class Housekeeping {
  readonly #deps: Deps
  readonly #options: Required<HousekeepingOptions>
  #timer: NodeJS.Timeout | undefined
  #running: Promise<number> | undefined

  constructor(deps: Deps, options: HousekeepingOptions) {
    this.#deps = deps
    this.#options = { maxBatchesPerRun: 1000, auditRetentionMs: 0, grantGraceMs: 0, ...options }
  }

  /** One run: batch after batch until nothing expired is left (or the run's cap). Returns rows deleted. */
  async runOnce(): Promise<number> {
    // Runs never overlap: a slow run makes the next interval wait for it.
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  async #run(): Promise<number> {
    let total = 0
    for (let batch = 0; batch < this.#options.maxBatchesPerRun; batch++) {
      const now = this.#deps.clock.now()
      let deleted = await this.#deps.store.deleteExpired(now, this.#options.batchSize, now - this.#options.grantGraceMs)
      const retention = this.#options.auditRetentionMs
      if (retention > 0) deleted += await this.#deps.store.deleteAuditEventsBefore(now - retention, this.#options.batchSize)
      total += deleted
      if (deleted === 0) break
      // Let requests run between batches.
      await nextTick()
    }
    return total
  }

  start(report: { onError(error: unknown): void; onDeleted?(count: number): void }): void {
    if (this.#options.intervalMs === 0 || this.#timer) return
    this.#timer = setInterval(() => {
      this.runOnce().then(
        (count) => {
          if (count > 0) report.onDeleted?.(count)
        },
        (error: unknown) => report.onError(error),
      )
    }, this.#options.intervalMs)
    this.#timer.unref()
  }

  /** Stops the interval and waits for a run under way. */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    await this.#running?.catch(() => {})
  }
}
