import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { OperatorRecord } from '../../../core/admin/operator-store.js'
import type { AuditEventFilter } from '../../../core/audit/audit-store.js'
import { LockoutUnavailableError } from '../../../core/abuse/limits.js'
import type { User } from '../../../core/types.js'
import type { Gatehouse } from '../../../gatehouse.js'
import { decodeCursor, encodeCursor } from '../admin/presenters.js'
import { messagePage } from './pages.js'
import { OPERATOR_PATH, operatorApiKeysPage, operatorAuditPage, operatorClientsPage, operatorSigningKeysPage, operatorUsersPage, type AuditFilterForm, type OperatorPage } from './operator-pages.js'
import type { Session } from './session.js'

/** Rows a list or audit page shows; "Next page" follows. */
const PAGE_SIZE = 50

interface Current {
  user: User
  session: Session
  csrf: string
}

export interface OperatorRouteDeps {
  gatehouse: Gatehouse
  signedIn(request: FastifyRequest, reply: FastifyReply): Promise<Current | undefined>
  signedInPost(request: FastifyRequest, reply: FastifyReply): Promise<Current | undefined>
  render(reply: FastifyReply, status: number, body: string): FastifyReply
  redirect(reply: FastifyReply, to: string): FastifyReply
  routeSchema(summary: string, description?: string): Record<string, unknown>
}

const query = (request: FastifyRequest, name: string): string => {
  const value = (request.query as Record<string, unknown> | undefined)?.[name]
  return typeof value === 'string' ? value.slice(0, 500) : ''
}

/** `2026-12-02T10:30` (a datetime-local field, read as UTC) or a full RFC 3339 time; undefined when not a time. */
function parseTime(value: string): number | undefined {
  const text = value.trim()
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/.test(text)) return undefined
  const ms = Date.parse(/(Z|[+-]\d{2}:\d{2})$/.test(text) ? text : `${text}Z`)
  return Number.isNaN(ms) ? undefined : ms
}

/**
 * The operator section of the console: a signed-in user on the operator list (the management
 * API's list and roles) sees every application, user, API key and signing key, without
 * secrets, and the audit log; an admin may unlock a locked-out user. Anyone else gets the very
 * 404 an unknown console path gets, so the section's existence is not revealed. The user's
 * entry is read on every request, so taking them off the list takes effect at once.
 */
export function registerOperatorRoutes(scope: FastifyInstance, deps: OperatorRouteDeps): void {
  const { gatehouse } = deps

  /** The operator entry of the signed-in user, or undefined after answering 404 (as an unknown path). */
  const operatorOf = async (current: Current, request: FastifyRequest, reply: FastifyReply): Promise<OperatorRecord | undefined> => {
    const entry = await gatehouse.store.getOperator('user', current.user.id)
    if (!entry) {
      // Recorded as the management API records a refused call: queued (a batched write, bounded), never awaited.
      gatehouse.audit.note({ actor: `user:${current.user.id}`, action: 'management.authorization_failed', ip: request.ip, details: { path: request.url.split('?')[0], reason: `user:${current.user.id} is not an operator`, via: 'console' } })
      reply.callNotFound()
      return undefined
    }
    return entry
  }

  /** The page's frame; after an unlock (?unlocked=<user id>), its notice names the user. */
  const pageOf = async (current: Current, entry: OperatorRecord, request: FastifyRequest): Promise<OperatorPage> => {
    const unlocked = query(request, 'unlocked')
    const user = unlocked ? await gatehouse.store.getUser(unlocked) : undefined
    return { username: current.user.username, csrf: current.csrf, role: entry.role, ...(user ? { notice: `${user.username} is unlocked: they may sign in again at once.` } : {}) }
  }

  /** A GET page of the section: signed in (else the login redirect), an operator (else 404). */
  const read = (path: string, summary: string, handler: (request: FastifyRequest, reply: FastifyReply, current: Current, entry: OperatorRecord) => Promise<FastifyReply>): void => {
    scope.get(`${OPERATOR_PATH}${path}`, { schema: { ...deps.routeSchema(summary, 'Operators only (admin or read-only role); 404 for anyone else.') } }, async (request, reply) => {
      const current = await deps.signedIn(request, reply)
      if (!current) return reply
      const entry = await operatorOf(current, request, reply)
      if (!entry) return reply
      return handler(request, reply, current, entry)
    })
  }

  read('', 'Operator section', async (_request, reply) => deps.redirect(reply, `${OPERATOR_PATH}/clients`))

  read('/clients', 'Every application', async (request, reply, current, entry) => {
    const after = query(request, 'after')
    const clients = await gatehouse.clients.list({ limit: PAGE_SIZE, ...(after ? { after } : {}) })
    const owners: Record<string, string> = {}
    await Promise.all(
      clients.map(async (client) => {
        const app = await gatehouse.store.getConsoleApp(client.id)
        const owner = app ? await gatehouse.store.getUser(app.ownerUserId) : undefined
        if (owner) owners[client.id] = owner.username
      }),
    )
    const next = clients.length === PAGE_SIZE ? clients.at(-1)?.id : undefined
    return deps.render(reply, 200, operatorClientsPage({ ...(await pageOf(current, entry, request)), clients, owners, ...(next ? { next } : {}) }))
  })

  read('/users', 'Every user', async (request, reply, current, entry) => {
    const after = query(request, 'after')
    const users = await gatehouse.users.list({ limit: PAGE_SIZE, ...(after ? { after } : {}) })
    const next = users.length === PAGE_SIZE ? users.at(-1)?.id : undefined
    return deps.render(reply, 200, operatorUsersPage({ ...(await pageOf(current, entry, request)), users, ...(next ? { next } : {}) }))
  })

  read('/api-keys', 'Every API key', async (request, reply, current, entry) => {
    const after = query(request, 'after')
    const keys = await gatehouse.apiKeys.list({ limit: PAGE_SIZE, ...(after ? { after } : {}) })
    const next = keys.length === PAGE_SIZE ? keys.at(-1)?.id : undefined
    return deps.render(reply, 200, operatorApiKeysPage({ ...(await pageOf(current, entry, request)), keys, now: gatehouse.clock.now(), ...(next ? { next } : {}) }))
  })

  read('/signing-keys', 'Signing keys', async (request, reply, current, entry) => deps.render(reply, 200, operatorSigningKeysPage({ ...(await pageOf(current, entry, request)), keys: gatehouse.keys.describe() })))

  read('/audit', 'The audit log, filtered', async (request, reply, current, entry) => {
    const form: AuditFilterForm = { action: query(request, 'action').trim(), client: query(request, 'client').trim(), user: query(request, 'user').trim(), from: query(request, 'from').trim(), to: query(request, 'to').trim() }
    const base = await pageOf(current, entry, request)
    const refuse = (error: string): FastifyReply => deps.render(reply, 400, operatorAuditPage({ ...base, error, form, events: [], usernames: {} }))
    const filter: AuditEventFilter = { limit: PAGE_SIZE }
    if (form.action) filter.action = form.action
    if (form.client) filter.target = `client:${form.client}`
    if (form.user) {
      // Events by the user (user:<id>) and about them: failed sign-ins name the username, as typed.
      const user = await gatehouse.users.find(form.user)
      filter.involving = user ? [`user:${user.id}`, `user:${user.username}`] : [`user:${form.user}`, `user:${form.user.toLowerCase()}`]
    }
    for (const [name, label] of [['from', 'From'], ['to', 'To']] as const) {
      if (!form[name]) continue
      const at = parseTime(form[name])
      if (at === undefined) return refuse(`${label} must be a date and time, e.g. 2026-12-02T10:30 (UTC).`)
      filter[name] = at
    }
    if (filter.from !== undefined && filter.to !== undefined && filter.from >= filter.to) return refuse('From must be before To.')
    const after = query(request, 'after')
    if (after) {
      const before = decodeCursor(after)
      if (!before) return refuse('That page link is not one this console gave; start again from the first page.')
      filter.before = before
    }
    const events = await gatehouse.audit.list(filter)
    const last = events.at(-1)
    const ids = [...new Set(events.flatMap((event) => [event.actor, event.target ?? '']).filter((subject) => subject.startsWith('user:')).map((subject) => subject.slice('user:'.length)))]
    const usernames: Record<string, string> = {}
    await Promise.all(
      ids.map(async (id) => {
        const user = await gatehouse.store.getUser(id)
        if (user) usernames[id] = user.username
      }),
    )
    return deps.render(reply, 200, operatorAuditPage({ ...base, form, events, usernames, ...(events.length === PAGE_SIZE && last ? { next: encodeCursor(last) } : {}) }))
  })

  scope.post<{ Params: { userId: string } }>(
    `${OPERATOR_PATH}/users/:userId/unlock`,
    { schema: { ...deps.routeSchema('Unlock a locked-out user', 'Operators with the admin role only (403 for read-only, 404 for anyone else). Form post: _csrf. Answers 303 to the users page.'), params: { type: 'object', properties: { userId: { type: 'string' } }, required: ['userId'] } } },
    async (request, reply) => {
      const current = await deps.signedInPost(request, reply)
      if (!current) return reply
      const entry = await operatorOf(current, request, reply)
      if (!entry) return reply
      const actor = `user:${current.user.id}`
      if (entry.role !== 'admin') {
        // As the management API records a refused operator call.
        await gatehouse.audit.record({ actor, action: 'management.authorization_failed', target: `user:${request.params.userId}`, ip: request.ip, details: { path: request.url.split('?')[0], reason: 'read-only operator; unlocking needs the admin role', via: 'console' } })
        return deps.render(reply, 403, messagePage({ title: 'Admin role needed', message: 'Your operator role is read-only: you can see users but not unlock them. Ask an operator with the admin role.', username: current.user.username, csrf: current.csrf }))
      }
      const user = await gatehouse.users.find(request.params.userId)
      if (!user) return deps.render(reply, 404, messagePage({ title: 'Not found', message: 'There is no such user.', username: current.user.username, csrf: current.csrf }))
      let lockedFor: number
      try {
        lockedFor = await gatehouse.guard.unlockUser(user.username)
      } catch (error) {
        if (!(error instanceof LockoutUnavailableError)) throw error
        reply.header('retry-after', '5')
        return deps.render(reply, 503, messagePage({ title: 'Try again shortly', message: 'The shared lockout store (Redis) is unreachable: the user is still locked. Try again in a few seconds.', username: current.user.username, csrf: current.csrf }))
      }
      await gatehouse.audit.record({ actor, action: 'user.unlocked', target: `user:${user.id}`, ip: request.ip, details: { locked_for: lockedFor, via: 'console' } })
      return deps.redirect(reply, `${OPERATOR_PATH}/users?unlocked=${encodeURIComponent(user.id)}`)
    },
  )
}
