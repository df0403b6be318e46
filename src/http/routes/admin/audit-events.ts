import type { FastifyInstance } from 'fastify'
import type { AuditEventFilter } from '../../../core/audit/audit-store.js'
import type { AdminDeps } from './index.js'
import { ProblemError } from './problem.js'
import { decodeCursor, encodeCursor, presentAuditEvent } from './presenters.js'
import { auditQuerySchema, problemResponses } from './schemas.js'

interface AuditQuery {
  limit: number
  cursor?: string
  actor?: string
  action?: string
  target?: string
  from?: string
  to?: string
}

function time(value: string, name: string): number {
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) throw new ProblemError('validation', `${name} must be an RFC 3339 date-time, e.g. 2026-11-23T12:00:00Z.`)
  return ms
}

export function registerAuditRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get<{ Querystring: AuditQuery }>(
    '/audit-events',
    {
      schema: {
        tags: ['Audit events'],
        summary: 'List audit events',
        description: 'Newest first. Management changes and failed client, user and API-key authentications; never a secret.',
        querystring: auditQuerySchema,
        response: {
          200: { type: 'object', properties: { events: { type: 'array', items: { $ref: 'AuditEvent#' } }, next_cursor: { type: ['string', 'null'] } }, required: ['events', 'next_cursor'] },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const query = request.query
      const filter: AuditEventFilter = { limit: query.limit }
      if (query.actor !== undefined) filter.actor = query.actor
      if (query.action !== undefined) filter.action = query.action
      if (query.target !== undefined) filter.target = query.target
      if (query.from !== undefined) filter.from = time(query.from, 'from')
      if (query.to !== undefined) filter.to = time(query.to, 'to')
      if (query.cursor !== undefined) {
        const before = decodeCursor(query.cursor)
        if (!before) throw new ProblemError('validation', 'cursor is not a next_cursor this API gave.')
        filter.before = before
      }
      const events = await deps.audit.list(filter)
      const last = events.at(-1)
      return { events: events.map(presentAuditEvent), next_cursor: events.length === query.limit && last ? encodeCursor(last) : null }
    },
  )
}
