import { BoundedMap } from '../bounded-map.js'
import type { Clock } from '../clock.js'
import type { Client } from '../types.js'
import type { IssuedAccessToken } from './token-service.js'

/** What a client_credentials request asks for: a repeat must match it exactly to get the same token. */
export interface ReuseKey {
  client: Client
  scopes: readonly string[]
  audience: string | undefined
  /** RFC 9449: a bound token is never handed to a request proving another key (or none). */
  dpopJkt: string | undefined
}

type Entry = { token: string; issuedAt: number; expiresAt: number; client: string }

/**
 * The whole client as it was when the token was issued: any change (a rotated secret, a
 * tokens-not-before, a new scope list, …) makes it another string, even within one millisecond,
 * which `updatedAt` alone would miss. Kept per object: the client cache hands out the same one.
 */
const fingerprints = new WeakMap<Client, string>()
function fingerprint(client: Client): string {
  let value = fingerprints.get(client)
  if (value === undefined) {
    value = JSON.stringify(client)
    fingerprints.set(client, value)
  }
  return value
}

/**
 * Optional client_credentials token reuse (a client's `tokenReuseSeconds`, off by default): a
 * client that asks again for the same scopes, audience and DPoP key within the window gets the
 * token it already has, with its remaining `expires_in`, instead of a new signature or row.
 * Instance-local: each instance keeps its own, so behind a load balancer a client may hold one
 * token per instance.
 *
 * It stops handing a token out when anything that could change the answer happened:
 * - the client changed in any way (secret rotation, with or without revoke; `revoke-tokens`;
 *   any update): the entry keeps the whole client it was issued for, and the client read here is
 *   the client cache's, which hears changes from every instance;
 * - the client was deleted (it no longer authenticates, so this is never asked);
 * - an access token was revoked (RFC 7009) on any instance: every entry is dropped
 *   (`invalidateAll`, on the change feed's access-token notices; revocations are rare);
 * - less than one second of the token's lifetime is left.
 */
export class TokenReuse {
  readonly #clock: Clock
  readonly #entries: BoundedMap<string, Entry>

  constructor(deps: { clock: Clock }, capacity = 10_000) {
    this.#clock = deps.clock
    this.#entries = new BoundedMap(capacity)
  }

  static #key(key: ReuseKey): string {
    return JSON.stringify([key.client.id, [...key.scopes].sort(), key.audience ?? null, key.dpopJkt ?? null])
  }

  /** The token to hand out again, with its remaining lifetime, or undefined to issue a new one. */
  find(key: ReuseKey): IssuedAccessToken | undefined {
    if (key.client.tokenReuseSeconds <= 0) return undefined
    const id = TokenReuse.#key(key)
    const entry = this.#entries.peek(id)
    if (entry === undefined) return undefined
    const now = this.#clock.now()
    const expiresIn = Math.floor((entry.expiresAt - now) / 1000)
    if (entry.client !== fingerprint(key.client) || now - entry.issuedAt >= key.client.tokenReuseSeconds * 1000 || expiresIn < 1) {
      this.#entries.delete(id)
      return undefined
    }
    return { token: entry.token, expiresIn }
  }

  /** Remembers a token just issued for `key` (only when the client has reuse on). */
  remember(key: ReuseKey, issued: IssuedAccessToken, issuedAt: number): void {
    if (key.client.tokenReuseSeconds <= 0) return
    this.#entries.set(TokenReuse.#key(key), { token: issued.token, issuedAt, expiresAt: Math.floor(issuedAt / 1000) * 1000 + issued.expiresIn * 1000, client: fingerprint(key.client) })
  }

  invalidateAll(): void {
    this.#entries.clear()
  }
}
