import { BoundedMap } from './bounded-map.js'
import type { ClientStore } from './client-store.js'
import type { Clock } from './clock.js'
import type { Client } from './types.js'

/**
 * Clients read on every token request are cached in memory, so a JWT client_credentials
 * request touches no database. Entries expire after `ttlMs`; `invalidate` drops one at once
 * (called on local changes and on change notices from other instances).
 */
export class ClientCache {
  readonly #store: Pick<ClientStore, 'getClient'>
  readonly #clock: Clock
  readonly #ttlMs: number
  /** At most 100k clients, least recently used first out (never all at once). */
  readonly #entries = new BoundedMap<string, { client: Client; expiresAt: number }>(100_000)
  #hits = 0
  #misses = 0

  constructor(deps: { store: Pick<ClientStore, 'getClient'>; clock: Clock }, ttlMs: number) {
    this.#store = deps.store
    this.#clock = deps.clock
    this.#ttlMs = ttlMs
  }

  async get(id: string): Promise<Client | undefined> {
    const now = this.#clock.now()
    const entry = this.#entries.get(id)
    if (entry && entry.expiresAt > now) {
      this.#hits++
      return entry.client
    }
    this.#misses++
    const client = await this.#store.getClient(id)
    // Unknown ids are not cached: a flood of random ids must not grow memory.
    if (client) {
      this.#entries.set(id, { client, expiresAt: now + this.#ttlMs })
    } else {
      this.#entries.delete(id)
    }
    return client
  }

  invalidate(id?: string): void {
    if (id === undefined) this.#entries.clear()
    else this.#entries.delete(id)
  }

  get stats(): { hits: number; misses: number } {
    return { hits: this.#hits, misses: this.#misses }
  }
}
