import { BoundedMap } from '../bounded-map.js'
import type { PublishChange } from '../changes.js'
import type { AccessTokenStore, GrantStore, OpaqueTokenRecord } from './token-store.js'

type Deps = {
  store: AccessTokenStore
  grants: Pick<GrantStore, 'getGrant'>
  /** Tells every instance that a token was revoked (the change feed), so none answers it from its cache. */
  publish: PublishChange
}

/**
 * Opaque access tokens this instance issued, kept in memory from the moment their insert
 * committed, so introspecting one (RFC 7662) reads no token row. What the cache holds never
 * changes for a token except its revocation, so every path that makes a token inactive still
 * wins:
 * - the token revoked (RFC 7009) here: dropped here, and the change feed tells the other
 *   instances to drop it (`access-token` notices; a feed resync drops everything);
 * - its grant ended (refresh token revoked, reuse, a disabled or deleted user, …): the grant is
 *   read at each introspection, as before — only the token row read is saved;
 * - its client's tokens-not-before, or the client deleted: checked against the client cache at
 *   each introspection, as before (the client cache hears client changes from every instance);
 * - expiry: checked at each introspection (the oldest entries go first when the bound is reached).
 * Bounded (least recently used out): a token that fell out is read from the store as before.
 */
export class CachedAccessTokens implements AccessTokenStore {
  readonly #deps: Deps
  readonly #entries: BoundedMap<string, OpaqueTokenRecord>

  constructor(deps: Deps, capacity = 100_000) {
    this.#deps = deps
    this.#entries = new BoundedMap(capacity)
  }

  /** Cached only once committed: an entry is never a token the store lacks. */
  async insertOpaqueToken(token: OpaqueTokenRecord): Promise<void> {
    await this.#deps.store.insertOpaqueToken(token)
    this.#entries.set(token.digest, token)
  }

  async findOpaqueToken(digest: string): Promise<(OpaqueTokenRecord & { grantEnded: boolean }) | undefined> {
    const cached = this.#entries.peek(digest)
    if (cached === undefined) return this.#deps.store.findOpaqueToken(digest)
    if (cached.grantId === null) return { ...cached, grantEnded: false }
    // The grant may have been ended anywhere since: read it (one primary-key read).
    const grant = await this.#deps.grants.getGrant(cached.grantId)
    return { ...cached, grantEnded: grant === undefined || grant.revokedAt !== null }
  }

  async revokeOpaqueToken(digest: string, at: number): Promise<void> {
    await this.#deps.store.revokeOpaqueToken(digest, at)
    this.#entries.delete(digest)
    await this.#deps.publish({ kind: 'access-token', id: digest })
  }

  /** Published too: a reused client_credentials JWT (TokenReuse) must stop being handed out on every instance. */
  async revokeJwt(jti: string, expiresAt: number): Promise<void> {
    await this.#deps.store.revokeJwt(jti, expiresAt)
    await this.#deps.publish({ kind: 'access-token', id: `jwt:${jti}` })
  }

  isJwtRevoked(jti: string): Promise<boolean> {
    return this.#deps.store.isJwtRevoked(jti)
  }

  /** Drops one token (a revocation on another instance), or all (the feed may have missed notices). */
  invalidate(digest?: string): void {
    if (digest === undefined) this.#entries.clear()
    else this.#entries.delete(digest)
  }

  get size(): number {
    return this.#entries.size
  }
}
