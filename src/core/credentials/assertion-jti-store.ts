/**
 * Port: the `jti` of every client assertion accepted, until it expires (RFC 7523 §3: the server
 * may keep used `jti` values so an assertion is not replayed). The core owns it; the store
 * (src/store) implements it with a unique key, so the check holds across all instances.
 */
export interface AssertionJtiStore {
  /**
   * Records `jti` for `clientId` until `expiresAt` (ms). Atomic: of any number of concurrent
   * calls with one (clientId, jti), on any instance, exactly one resolves true; the others, and
   * every later one while the record lives, resolve false (a replay). A record already past its
   * `expiresAt` at `now` counts as absent, and is taken over.
   */
  rememberAssertionJti(clientId: string, jti: string, expiresAt: number, now: number): Promise<boolean>
}
