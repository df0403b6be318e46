/**
 * Records that instances cache in memory. When one changes, whoever changed it publishes a
 * `Change`, and every instance (the publisher's included) drops its cached copy.
 */
export type Change =
  | { kind: 'client'; id: string }
  | { kind: 'api-key'; id: string }
  | { kind: 'signing-keys' }
  | { kind: 'apis' }
  /** An opaque access token was revoked (RFC 7009); `id` is its digest (SHA-256), never the token. */
  | { kind: 'access-token'; id: string }

/** Tells every instance that a record changed. Resolves once the notice is sent. */
export type PublishChange = (change: Change) => Promise<void>
