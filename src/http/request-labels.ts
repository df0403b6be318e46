import type { FastifyRequest } from 'fastify'
import { GRANT_TYPES } from '../core/types.js'

const GRANTS: ReadonlySet<string> = new Set(GRANT_TYPES)
/** Dialects whose routes each serve one grant. */
const DIALECT_GRANT: Readonly<Record<string, string>> = { canary: 'api_key', wrapped: 'client_credentials' }

/**
 * The grant a request asked for, from a closed set (never a caller's free text as a metric
 * label or span attribute): a built-in grant type, `other`, or `none` (no grant asked).
 */
export function grantOf(request: FastifyRequest, dialect: string): string {
  const body = request.body
  const asked = body !== null && typeof body === 'object' ? (body as Record<string, unknown>).grant_type : undefined
  if (typeof asked === 'string') return GRANTS.has(asked) ? asked : 'other'
  return DIALECT_GRANT[dialect] ?? 'none'
}

/** The outcome of an answer by its status: success, refused, rate_limited, unavailable or server_error. */
export function outcomeOf(status: number): string {
  if (status < 400) return 'success'
  if (status === 429) return 'rate_limited'
  if (status === 503) return 'unavailable'
  return status >= 500 ? 'server_error' : 'refused'
}
