import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose'
import { BoundedMap } from '../bounded-map.js'
import type { Clock } from '../clock.js'
import type { Client, ClientJwks } from '../types.js'
import { checkPublicJwks } from './client-jwks.js'

/**
 * Port: a client's published JWK Set, fetched from its `jwks_uri`. The core declares it and
 * knows nothing of HTTP; src/jwks/http-key-source.ts implements it (a timeout, a size limit, no
 * redirects, https only and no private addresses in production).
 */
export interface ClientKeySource {
  /** The document at `uri`, parsed as JSON. Rejects when it cannot be had; the reason is logged, never answered. */
  fetchJwks(uri: string): Promise<unknown>
}

export interface ClientKeysOptions {
  /** How long fetched keys are used before they are fetched again (default 5 minutes). */
  ttlMs?: number
  /**
   * The least time (default a minute) between two fetches for one client made because an
   * assertion named a `kid` the cached keys lack, and between a failed fetch and the next try.
   * However many assertions an attacker sends, a client's jwks_uri is so fetched at most about
   * once a minute (plus once per TTL).
   */
  minFetchIntervalMs?: number
  /** Clients whose fetched keys are kept (least recently used out first). */
  maxClients?: number
}

type Fetched = {
  uri: string
  keys: JWTVerifyGetKey | undefined
  /** Until when `keys` are used without asking again; 0 when there are none. */
  expiresAt: number
  attemptedAt: number
  failed: boolean
  /** The last fetch made for an unknown `kid`. */
  refreshedAt: number
}

/**
 * The keys a private_key_jwt client's assertion is checked against: its inline `jwks`, or the
 * set at its `jwks_uri`, fetched through the ClientKeySource and cached. `current` gives the
 * cached keys (fetching when there are none or they expired); `refreshed` is for an assertion
 * whose `kid` no cached key has (the client rotated its keys): it fetches again, unless it did
 * so for this client less than a minute ago. A failed fetch is not tried again for a minute.
 * Concurrent requests for one client share one fetch. A changed jwks_uri is a new start.
 */
export class ClientKeys {
  readonly #source: ClientKeySource | undefined
  readonly #clock: Clock
  readonly #ttlMs: number
  readonly #minIntervalMs: number
  readonly #onError: ((clientId: string, error: unknown) => void) | undefined
  readonly #inline = new WeakMap<ClientJwks, JWTVerifyGetKey>()
  readonly #fetched: BoundedMap<string, Fetched>
  readonly #pending = new Map<string, Promise<JWTVerifyGetKey | undefined>>()

  constructor(deps: { source?: ClientKeySource; clock: Clock; onFetchError?(clientId: string, error: unknown): void }, options: ClientKeysOptions = {}) {
    this.#source = deps.source
    this.#clock = deps.clock
    this.#onError = deps.onFetchError
    this.#ttlMs = options.ttlMs ?? 5 * 60_000
    this.#minIntervalMs = options.minFetchIntervalMs ?? 60_000
    this.#fetched = new BoundedMap(options.maxClients ?? 10_000)
  }

  /** The client's keys now; undefined when it has none (or its jwks_uri could not be fetched). */
  async current(client: Client): Promise<JWTVerifyGetKey | undefined> {
    if (client.jwks) return this.#local(client.jwks)
    if (client.jwksUri === null) return undefined
    const now = this.#clock.now()
    const entry = this.#entry(client.id, client.jwksUri)
    if (entry && entry.expiresAt > now) return entry.keys
    if (entry && this.#backingOff(entry, now)) return undefined
    return this.#fetch(client.id, client.jwksUri, entry, false)
  }

  /**
   * Keys fetched anew after a `kid` the cached ones lack: undefined when there is nothing newer
   * to try (inline keys, a fetch for an unknown kid under a minute ago, a recent failure).
   */
  async refreshed(client: Client): Promise<JWTVerifyGetKey | undefined> {
    if (client.jwks || client.jwksUri === null) return undefined
    const now = this.#clock.now()
    const entry = this.#entry(client.id, client.jwksUri)
    if (entry && (now - entry.refreshedAt < this.#minIntervalMs || this.#backingOff(entry, now))) return undefined
    return this.#fetch(client.id, client.jwksUri, entry, true)
  }

  /** What was fetched for this client from this URI (another URI's fetches do not count). */
  #entry(clientId: string, uri: string): Fetched | undefined {
    const entry = this.#fetched.peek(clientId)
    return entry && entry.uri === uri ? entry : undefined
  }

  #backingOff(entry: Fetched, now: number): boolean {
    return entry.failed && now - entry.attemptedAt < this.#minIntervalMs
  }

  #local(jwks: ClientJwks): JWTVerifyGetKey {
    let keys = this.#inline.get(jwks)
    if (!keys) {
      keys = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0])
      this.#inline.set(jwks, keys)
    }
    return keys
  }

  #fetch(clientId: string, uri: string, entry: Fetched | undefined, refresh: boolean): Promise<JWTVerifyGetKey | undefined> {
    const key = `${clientId}\n${uri}`
    const pending = this.#pending.get(key)
    if (pending) return pending
    const source = this.#source
    if (!source) return Promise.resolve(undefined)
    const now = this.#clock.now()
    const refreshedAt = refresh ? now : (entry?.refreshedAt ?? Number.NEGATIVE_INFINITY)
    // Started on the next microtask, so it is in #pending before its `finally` can run.
    const run = Promise.resolve().then(async (): Promise<JWTVerifyGetKey | undefined> => {
      try {
        const jwks = checkPublicJwks(await source.fetchJwks(uri))
        const keys = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0])
        this.#fetched.set(clientId, { uri, keys, expiresAt: now + this.#ttlMs, attemptedAt: now, failed: false, refreshedAt })
        return keys
      } catch (error) {
        this.#onError?.(clientId, error)
        // Keys fetched less than the TTL ago stay good; nothing else is used.
        const fresh = entry && entry.expiresAt > now ? entry : undefined
        this.#fetched.set(clientId, { uri, keys: fresh?.keys, expiresAt: fresh?.expiresAt ?? 0, attemptedAt: now, failed: true, refreshedAt })
        return fresh?.keys
      } finally {
        this.#pending.delete(key)
      }
    })
    this.#pending.set(key, run)
    return run
  }
}
