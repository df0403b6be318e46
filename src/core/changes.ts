/**
 * Records that instances cache in memory. When one changes, whoever changed it publishes a
 * `Change`, and every instance (the publisher's included) drops its cached copy.
 */
export type Change =
  | { kind: 'client'; id: string }
  | { kind: 'api-key'; id: string }
  | { kind: 'signing-keys' }
  | { kind: 'apis' }
  /** An access token was revoked (RFC 7009); `id` is an opaque token's digest (SHA-256) or `jwt:` and a JWT's jti, never the token. */
  | { kind: 'access-token'; id: string }

/** Tells every instance that a record changed. Resolves once the notice is sent. */
export type PublishChange = (change: Change) => Promise<void>
