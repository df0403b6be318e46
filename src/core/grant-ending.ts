import type { Clock } from './clock.js'
import type { GrantEndReason, GrantSelector, GrantStore } from './tokens/token-store.js'

export type GrantEndingDeps = { grants: Pick<GrantStore, 'endGrants'>; clock: Clock }

/**
 * Ends grants: the one function every path that ends one calls (a revoked refresh token,
 * reuse detection, a disabled, deleted or re-passworded user, a deleted client, a rotated
 * secret, an operator ending a user's sessions), so none can forget a step. An ended grant's
 * refresh tokens stop working, and its access tokens introspect inactive on every instance at
 * once: introspection reads the grant, it does not cache it. An offline JWT verifier sees an
 * ended grant's JWTs until they expire (docs/design.md, "Grants").
 */
export async function endGrants(deps: GrantEndingDeps, selector: GrantSelector, reason: GrantEndReason): Promise<number> {
  return deps.grants.endGrants(selector, deps.clock.now(), reason)
}
