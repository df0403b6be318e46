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
   * The least time between two fetches for one client (default a minute), whatever the reason:
   * an unknown `kid`, a failed fetch, a flood of assertions naming the client. An attacker can
   * so make us fetch a URL at most once a minute per client, however many requests they send.
   */
  minFetchIntervalMs?: number
  /** Clients whose fetched keys are kept (least recently used out first). */
  maxClients?: number
}

type Fetched = { uri: string; keys: JWTVerifyGetKey | undefined; fetchedAt: number; expiresAt: number }

/**
 * The keys a private_key_jwt client's assertion is checked against: its inline `jwks`, or the
 * set at its `jwks_uri`, fetched through the ClientKeySource and cached. `current` gives the
 * cached keys (fetching when there are none or they expired); `refreshed` is for an assertion
 * whose `kid` no cached key has: it fetches again unless the last fetch was under a minute ago.
 * Concurrent requests for one client share one fetch.
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
    const entry = this.#fetched.peek(client.id)
    if (entry && entry.uri === client.jwksUri && entry.expiresAt > this.#clock.now()) return entry.keys
    return this.#fetch(client.id, client.jwksUri)
  }

  /**
   * Keys fetched anew after a `kid` the cached ones lack (a rotation at the client): undefined
   * when there is nothing newer to try (inline keys, or a fetch under a minute ago).
   */
  async refreshed(client: Client): Promise<JWTVerifyGetKey | undefined> {
    if (client.jwks || client.jwksUri === null) return undefined
    const entry = this.#fetched.peek(client.id)
    if (entry && entry.uri === client.jwksUri && this.#clock.now() - entry.fetchedAt < this.#minIntervalMs) return undefined
    return this.#fetch(client.id, client.jwksUri)
  }

  #local(jwks: ClientJwks): JWTVerifyGetKey {
    let keys = this.#inline.get(jwks)
    if (!keys) {
      keys = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0])
      this.#inline.set(jwks, keys)
    }
    return keys
  }

  #fetch(clientId: string, uri: string): Promise<JWTVerifyGetKey | undefined> {
    const key = `${clientId}\n${uri}`
    const pending = this.#pending.get(key)
    if (pending) return pending
    const now = this.#clock.now()
    const entry = this.#fetched.peek(clientId)
    const same = entry !== undefined && entry.uri === uri
    const stillFresh = same && entry.expiresAt > now ? entry.keys : undefined
    // A changed jwks_uri (an operator's edit) is fetched at once; the same one at most once a minute.
    if (same && now - entry.fetchedAt < this.#minIntervalMs) return Promise.resolve(stillFresh)
    const source = this.#source
    if (!source) return Promise.resolve(undefined)
    // Started on the next microtask, so it is in #pending before its `finally` can run.
    const run = Promise.resolve().then(async (): Promise<JWTVerifyGetKey | undefined> => {
      try {
        const jwks = checkPublicJwks(await source.fetchJwks(uri))
        const keys = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0])
        this.#fetched.set(clientId, { uri, keys, fetchedAt: now, expiresAt: now + this.#ttlMs })
        return keys
      } catch (error) {
        this.#onError?.(clientId, error)
        // Keys fetched less than the TTL ago stay good; nothing else is used.
        this.#fetched.set(clientId, { uri, keys: stillFresh, fetchedAt: now, expiresAt: stillFresh && entry ? entry.expiresAt : 0 })
        return stillFresh
      } finally {
        this.#pending.delete(key)
      }
    })
    this.#pending.set(key, run)
    return run
  }
}
