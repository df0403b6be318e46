/**
 * Group commit: the writes asked for within one turn of the event loop (or `maxBatch` of them,
 * whichever comes first) share one database write, so a burst of token requests pays for one
 * commit (one WAL append on SQLite, one round trip and one WAL flush on PostgreSQL) instead of
 * one each. Every caller's promise settles only once its batch has committed, so nothing a
 * caller answered on is lost if the process dies; a failed batch rejects exactly the calls in
 * it, with the batch's error.
 *
 * The audit log batches the same way (src/core/audit/audit-log.ts), but it does not wait for
 * its writes: these callers do.
 */
export class GroupCommit<Item, Result> {
  readonly #write: (items: Item[]) => Promise<Result[]>
  readonly #maxBatch: number
  #pending: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = []
  #scheduled = false

  /** `write` stores the items in one statement or transaction and answers one result per item, in order. */
  constructor(write: (items: Item[]) => Promise<Result[]>, maxBatch: number) {
    this.#write = write
    this.#maxBatch = maxBatch
  }

  add(item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ item, resolve, reject })
      if (this.#pending.length >= this.#maxBatch) this.#flush()
      else if (!this.#scheduled) {
        this.#scheduled = true
        // setImmediate, not a timer: the batch waits for no clock, only for the requests whose
        // I/O this turn of the loop already read.
        setImmediate(() => this.#flush())
      }
    })
  }

  #flush(): void {
    this.#scheduled = false
    const batch = this.#pending
    if (batch.length === 0) return
    this.#pending = []
    this.#write(batch.map((entry) => entry.item)).then(
      (results) => batch.forEach((entry, i) => entry.resolve(results[i] as Result)),
      (error: unknown) => batch.forEach((entry) => entry.reject(error)),
    )
  }
}

/**
 * The same key twice in one batch: only the first is written, and the later ones answer as they
 * would one after another (an already-used refresh token, a replayed proof). A statement may not
 * touch one row twice either (PostgreSQL refuses an upsert that does). `unique` holds the first of
 * each key; `won` says whether an item is that first one and the write reported its key.
 */
export function firstOfEachKey<T>(items: readonly T[], key: (item: T) => string): { unique: T[]; won: (item: T, written: ReadonlySet<string>) => boolean } {
  const first = new Map<string, T>()
  for (const item of items) if (!first.has(key(item))) first.set(key(item), item)
  return { unique: [...first.values()], won: (item, written) => first.get(key(item)) === item && written.has(key(item)) }
}
