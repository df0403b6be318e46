import { BoundedMap } from './bounded-map.js'
import type { ClientStore } from './client-store.js'
import type { Clock } from './clock.js'
import type { Client } from './types.js'

/** A cached answer of the store: the client, or `undefined` for an id that does not exist. */
type Entry = { client: Client | undefined; expiresAt: number }

/**
 * Clients read on every token request are cached in memory, so a JWT client_credentials
 * request touches no database. Entries expire after `ttlMs`; `invalidate` drops one at once
 * (called on local changes, creation included, and on change notices from other instances).
 *
 * Unknown ids are cached too (negative entries, same TTL): were they read from the store each
 * time while known ids are answered from memory, the answer time would tell which client ids
 * exist (RFC 6749 §10.10, §2.3.1 — the secret comparison already costs the same for both).
 */
export class ClientCache {
  readonly #store: Pick<ClientStore, 'getClient'>
  readonly #clock: Clock
  readonly #ttlMs: number
  /**
   * At most 100k entries, least recently used first out (never all at once). A known client is
   * kept over an unknown id when one must go, so a flood of random ids pushes out other random
   * ids, not the live clients, and memory stays bounded either way.
   */
  readonly #entries = new BoundedMap<string, Entry>(100_000, { keep: (entry) => entry.client !== undefined })
  /** Bumped by every invalidation: a read that overlapped one does not cache what it read. */
  #generation = 0
  #hits = 0
  #misses = 0

  constructor(deps: { store: Pick<ClientStore, 'getClient'>; clock: Clock }, ttlMs: number) {
    this.#store = deps.store
    this.#clock = deps.clock
    this.#ttlMs = ttlMs
  }

  async get(id: string): Promise<Client | undefined> {
    const now = this.#clock.now()
    // peek, not get: a hit does not move the entry (a Map delete and set on the hot path); an
    // entry is set anew each time it expires, so the oldest are still the least recently used.
    const entry = this.#entries.peek(id)
    if (entry && entry.expiresAt > now) {
      this.#hits++
      return entry.client
    }
    this.#misses++
    const generation = this.#generation
    const client = await this.#store.getClient(id)
    // A create, change or delete while the store was read may have made this answer stale.
    if (generation === this.#generation) this.#entries.set(id, { client, expiresAt: now + this.#ttlMs })
    else this.#entries.delete(id)
    return client
  }

  invalidate(id?: string): void {
    this.#generation++
    if (id === undefined) this.#entries.clear()
    else this.#entries.delete(id)
  }

  get stats(): { hits: number; misses: number } {
    return { hits: this.#hits, misses: this.#misses }
  }
}
