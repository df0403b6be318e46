/** Port: deletion of expired rows (housekeeping). The core owns it; the store (src/store) implements it. */
export interface HousekeepingStore {
  /**
   * Deletes up to `limit` expired rows of each kind (tokens, revoked-JWT entries, client
   * assertion jti entries, authorization codes, pushed requests, device authorizations, sign-in
   * sessions past their absolute end, and
   * up to `limit` ended sign-in sessions besides); returns how many went. A grant goes only
   * once it expired before `grantsBefore` (default `now`) and no token of it is left: an access
   * token minted late in a grant's life may outlive it, and must not lose its grant first.
   */
  deleteExpired(now: number, limit: number, grantsBefore?: number): Promise<number>
}
