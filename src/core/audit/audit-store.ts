/** Port: the audit log. The core owns it; the store (src/store) implements it. */
/** One entry of the audit log: who did what to which record, when, from where. Never a secret. */
export interface AuditEvent {
  id: string
  /** Milliseconds since the epoch. */
  at: number
  /** `client:ID` (a token's client), `user:ID`, or `anonymous` for failed authentications. */
  actor: string
  /** Dotted verb, e.g. `client.created`, `client.authentication_failed`. */
  action: string
  /** The record acted on, e.g. `client:ID`; null when none. */
  target: string | null
  /** Source IP of the request, when it came over HTTP. */
  ip: string | null
  /** Non-secret details (changed field names, reasons). */
  details: Record<string, unknown>
}

export interface AuditEventFilter {
  limit: number
  actor?: string
  action?: string
  target?: string
  /** Events whose actor or target is any of these (e.g. a user by `user:<id>` and `user:<username>`). */
  involving?: readonly string[]
  /** Inclusive lower bound of `at`. */
  from?: number
  /** Exclusive upper bound of `at`. */
  to?: number
  /** Keyset cursor: events strictly older than this one (newest first). */
  before?: { at: number; id: string }
}

export interface AuditStore {
  appendAuditEvent(event: AuditEvent): Promise<void>
  /** Appends several events in one statement (the background writer's batches). */
  appendAuditEvents(events: AuditEvent[]): Promise<void>
  /** Newest first; ties on `at` broken by id, so the cursor pages without gaps or repeats. */
  listAuditEvents(filter: AuditEventFilter): Promise<AuditEvent[]>
  /** Deletes up to `limit` of the events older than `at` (retention); returns how many went. */
  deleteAuditEventsBefore(at: number, limit: number): Promise<number>
}
