import type { AuditEvent, AuditEventFilter, AuditStore } from './audit-store.js'
import type { Clock } from '../clock.js'
import type { EngineObserver } from '../types.js'
import type { Random } from '../random.js'

/** What a caller says about an event; the log adds id and time. */
export interface AuditEntry {
  actor: string
  action: string
  target?: string | null
  ip?: string | null
  details?: Record<string, unknown>
}

type Deps = { store: AuditStore; clock: Clock; random: Random; onError: (error: unknown) => void }

/** Background events wait at most this long, and are written together, one statement a batch. */
const FLUSH_DELAY_MS = 50
/**
 * A flood of failed logins (credential stuffing) must not turn into a flood of writes: past
 * this many waiting events, further ones are counted, not stored, and the count is itself
 * an event (`audit.events_dropped`).
 */
const MAX_PENDING = 5000

/** Keys whose values must never reach the log, whatever a caller passes in `details`. */
const SECRET_KEYS = /secret|password|token|api_?key|authorization/i

function withoutSecrets(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).filter(([key]) => !SECRET_KEYS.test(key)))
}

/**
 * The audit log: who did what, when, from where — never a secret. Management changes are
 * awaited (`record`); failed authentications on the token path are queued (`note`) and
 * written in batches a few milliseconds later, so neither a slow database nor a flood of
 * failures holds up a token response.
 */
export class AuditLog {
  readonly #deps: Deps
  #pending: AuditEvent[] = []
  #dropped = 0
  #timer: NodeJS.Timeout | undefined
  #writing: Promise<void> = Promise.resolve()

  constructor(deps: Deps) {
    this.#deps = deps
  }

  #sequence = 0

  /**
   * Ids sort like the events of this instance: time, then a sequence number, then randomness
   * (unique across instances). The log lists newest first by (at, id).
   */
  #id(at: number): string {
    this.#sequence = (this.#sequence + 1) % 36 ** 6
    return `${at.toString(36).padStart(9, '0')}${this.#sequence.toString(36).padStart(6, '0')}${this.#deps.random.bytes(6).toString('hex')}`
  }

  #event(entry: AuditEntry): AuditEvent {
    const at = this.#deps.clock.now()
    return {
      id: this.#id(at),
      at,
      actor: entry.actor,
      action: entry.action,
      target: entry.target ?? null,
      ip: entry.ip ?? null,
      details: withoutSecrets(entry.details ?? {}),
    }
  }

  /** Appends and waits for the write: a management change is not done until it is logged. */
  async record(entry: AuditEntry): Promise<AuditEvent> {
    const event = this.#event(entry)
    await this.#deps.store.appendAuditEvent(event)
    return event
  }

  /** Queues for a background write; a failed write is reported to `onError`, never to the caller. */
  note(entry: AuditEntry): void {
    if (this.#pending.length >= MAX_PENDING) this.#dropped++
    else this.#pending.push(this.#event(entry))
    this.#timer ??= setTimeout(() => void this.flush(), FLUSH_DELAY_MS).unref()
  }

  /** Writes what is queued (called by the timer, and on shutdown so nothing is lost). */
  flush(): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const batch = this.#pending
    this.#pending = []
    if (this.#dropped > 0) {
      batch.push(this.#event({ actor: 'gatehouse', action: 'audit.events_dropped', details: { count: this.#dropped, reason: 'too many events waiting to be written' } }))
      this.#dropped = 0
    }
    // One batch at a time, in order.
    this.#writing = this.#writing.then(() => (batch.length > 0 ? this.#deps.store.appendAuditEvents(batch) : undefined)).catch(this.#deps.onError)
    return this.#writing
  }

  list(filter: AuditEventFilter): Promise<AuditEvent[]> {
    return this.#deps.store.listAuditEvents(filter)
  }
}

const FAILURE_ACTIONS = { client: 'client.authentication_failed', user: 'user.authentication_failed', api_key: 'api_key.authentication_failed' } as const

/** Turns the engine's observations into audit events and activity counts. */
export function auditingObserver(audit: AuditLog, activity: { recordIssued(clientId: string, grantType: string, at: number): void }, clock: Clock): EngineObserver {
  return {
    authenticationFailed(event) {
      audit.note({
        actor: 'anonymous',
        action: FAILURE_ACTIONS[event.kind],
        target: `${event.kind}:${event.id}`,
        ip: event.ip ?? null,
        details: { reason: event.reason, ...(event.clientId !== undefined ? { client_id: event.clientId } : {}) },
      })
    },
    tokenIssued(event) {
      activity.recordIssued(event.clientId, event.grantType, clock.now())
    },
  }
}
