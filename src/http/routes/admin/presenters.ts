import type { AuditEvent } from '../../../core/audit/audit-store.js'
import type { SigningKeyDescription } from '../../../core/tokens/key-ring.js'

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

export function presentAuditEvent(event: AuditEvent): Record<string, unknown> {
  return { id: event.id, at: iso(event.at), actor: event.actor, action: event.action, target: event.target, ip: event.ip, details: event.details }
}

export function presentSigningKey(key: SigningKeyDescription): Record<string, unknown> {
  return { kid: key.kid, alg: key.alg, active: key.active, published: key.published, created_at: iso(key.createdAt), retired_at: iso(key.retiredAt) }
}

/** Audit paging cursor: the (at, id) of the last event of a page, opaque to callers. */
export function encodeCursor(event: AuditEvent): string {
  return Buffer.from(`${event.at}:${event.id}`).toString('base64url')
}

export function decodeCursor(cursor: string): { at: number; id: string } | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const colon = text.indexOf(':')
  const at = Number(text.slice(0, colon))
  if (colon <= 0 || !Number.isSafeInteger(at)) return undefined
  return { at, id: text.slice(colon + 1) }
}
