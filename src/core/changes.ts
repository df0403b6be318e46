/**
 * Records that instances cache in memory. When one changes, whoever changed it publishes a
 * `Change`, and every instance (the publisher's included) drops its cached copy.
 */
export type Change = { kind: 'client'; id: string } | { kind: 'api-key'; id: string } | { kind: 'signing-keys' } | { kind: 'apis' }

/** Tells every instance that a record changed. Resolves once the notice is sent. */
export type PublishChange = (change: Change) => Promise<void>
