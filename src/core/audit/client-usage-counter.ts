import type { ClientUsage, ClientUsageIncrement, ClientUsageStore } from './client-usage-store.js'

/** What the console shows of a client's usage: every instance's flushed counts plus this one's unflushed part. */
export interface UsageSummary {
  issued: number
  lastIssuedAt: number | null
  byGrant: Record<string, number>
}

type Deps = { store: ClientUsageStore; onError: (error: unknown) => void }

/** Past this many unflushed (client, grant type) pairs, further new pairs are not counted until the next flush. */
const MAX_PENDING_PAIRS = 100_000

/**
 * Token counts per client, without a database write per token (the token path is
 * benchmarked): `recordIssued` is a Map update; `flush` adds what was counted to the store as
 * increments, every `intervalMs` in the background and on shutdown. A crash loses at most the
 * counts of the last interval on that instance (docs/operations.md). A failed flush keeps its
 * counts for the next one, so a database outage delays counts rather than losing them.
 */
export class ClientUsageCounter {
  readonly #deps: Deps
  /** Unflushed counts by client, then grant type: no string built per token (the token path). */
  #pending = new Map<string, Map<string, ClientUsageIncrement>>()
  #pairs = 0
  /** The batch being written: still counted by `usageOf` until the store has it. */
  #inFlight: ClientUsageIncrement[] = []
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> = Promise.resolve()

  constructor(deps: Deps) {
    this.#deps = deps
  }

  recordIssued(clientId: string, grantType: string, at: number): void {
    // The usual case, allocation-free: a client and grant counted since the last flush.
    const entry = this.#pending.get(clientId)?.get(grantType)
    if (entry) {
      entry.count++
      if (at > entry.lastIssuedAt) entry.lastIssuedAt = at
      return
    }
    this.#add({ clientId, grantType, count: 1, lastIssuedAt: at })
  }

  #add(increment: ClientUsageIncrement): void {
    let byGrant = this.#pending.get(increment.clientId)
    const entry = byGrant?.get(increment.grantType)
    if (entry) {
      entry.count += increment.count
      if (increment.lastIssuedAt > entry.lastIssuedAt) entry.lastIssuedAt = increment.lastIssuedAt
      return
    }
    if (this.#pairs >= MAX_PENDING_PAIRS) return
    if (!byGrant) {
      byGrant = new Map()
      this.#pending.set(increment.clientId, byGrant)
    }
    byGrant.set(increment.grantType, { ...increment })
    this.#pairs++
  }

  /** Flushes every `intervalMs` until `stop`; the timer does not keep the process alive. */
  start(intervalMs: number): void {
    this.#timer ??= setInterval(() => void this.flush(), intervalMs).unref()
  }

  /** Stops the timer and writes what is left (shutdown). */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    await this.flush()
  }

  /** Adds the unflushed counts to the store, one flush at a time. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (this.#pairs === 0) return
      const batch = [...this.#pending.values()].flatMap((byGrant) => [...byGrant.values()])
      this.#pending = new Map()
      this.#pairs = 0
      this.#inFlight = batch
      try {
        await this.#deps.store.addClientUsage(this.#inFlight)
      } catch (error) {
        // Put them back, merged with what was counted meanwhile: the next flush tries again.
        for (const increment of batch) this.#add(increment)
        this.#deps.onError(error)
      } finally {
        this.#inFlight = []
      }
    })
    return this.#flushing
  }

  /** The store's counts (every instance, flushed) plus this instance's unflushed ones. */
  async usageOf(clientId: string): Promise<UsageSummary> {
    // A batch still being written after the store was read is not in what was read: add it.
    const inFlight = this.#inFlight
    const stored: ClientUsage[] = await this.#deps.store.listClientUsage(clientId)
    const byGrant: Record<string, number> = {}
    let lastIssuedAt: number | null = null
    const add = (usage: ClientUsage): void => {
      byGrant[usage.grantType] = (byGrant[usage.grantType] ?? 0) + usage.count
      lastIssuedAt = lastIssuedAt === null ? usage.lastIssuedAt : Math.max(lastIssuedAt, usage.lastIssuedAt)
    }
    stored.forEach(add)
    if (this.#inFlight === inFlight) for (const increment of inFlight) if (increment.clientId === clientId) add(increment)
    for (const increment of this.#pending.get(clientId)?.values() ?? []) add(increment)
    return { issued: Object.values(byGrant).reduce((sum, count) => sum + count, 0), lastIssuedAt, byGrant }
  }
}
