import type { FastifyInstance } from 'fastify'
import { presentUser } from '../../../core/admin/presenters.js'
import { viewUser } from '../../../core/admin/user-admin.js'
import { LockoutUnavailableError } from '../../../core/abuse/limits.js'
import { operatorOf, type AdminDeps } from './index.js'
import { ProblemError } from './problem.js'
import { idParams, pageQuerySchema, passwordSchema, problemResponses, userCreateSchema } from './schemas.js'

const userParams = idParams('userId', 'The user id or username.')
const tags = ['Users']
const notFound = (id: string): ProblemError => new ProblemError('notFound', `No user ${id}.`)

export function registerUserRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get<{ Querystring: { limit: number; after?: string } }>(
    '/users',
    {
      schema: {
        tags,
        summary: 'List users',
        description: 'Pages by username: pass `next_after` as `after` for the next page.',
        querystring: pageQuerySchema,
        response: {
          200: { type: 'object', properties: { users: { type: 'array', items: { $ref: 'User#' } }, next_after: { type: ['string', 'null'] } }, required: ['users', 'next_after'] },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const { limit, after } = request.query
      const users = await deps.users.list({ limit, ...(after !== undefined ? { after } : {}) })
      return { users: users.map(presentUser), next_after: users.length === limit ? (users.at(-1)?.username ?? null) : null }
    },
  )

  app.post<{ Body: { username: string; password: string; name?: string | null } }>(
    '/users',
    {
      schema: {
        tags,
        summary: 'Create a user',
        description: 'A user of the password grant and the developer console. The password is stored as an argon2id hash.',
        body: userCreateSchema,
        response: { 201: { $ref: 'User#' }, ...problemResponses, 409: { $ref: 'Problem#', description: 'The username is taken.' } },
      },
    },
    async (request, reply) => {
      const operator = operatorOf(request)
      const user = await deps.users.create({ username: request.body.username, password: request.body.password, name: request.body.name ?? null })
      await deps.audit.record({ actor: operator.actor, action: 'user.created', target: `user:${user.id}`, ip: operator.ip, details: { username: user.username } })
      return reply.code(201).send(presentUser(user))
    },
  )

  app.get<{ Params: { userId: string } }>(
    '/users/:userId',
    { schema: { tags, summary: 'Show a user', params: userParams, response: { 200: { $ref: 'User#' }, ...problemResponses, 404: { $ref: 'Problem#' } } } },
    async (request) => {
      const user = await deps.users.find(request.params.userId)
      if (!user) throw notFound(request.params.userId)
      return presentUser(viewUser(user))
    },
  )

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    app.post<{ Params: { userId: string } }>(
      `/users/:userId/${verb}`,
      {
        schema: {
          tags,
          summary: `${verb === 'disable' ? 'Disable' : 'Enable'} a user`,
          description: disabled ? 'A disabled user cannot log in, and every grant they gave ends: their refresh tokens stop working and their access tokens introspect inactive at once.' : 'Lets a disabled user log in again (grants ended when they were disabled stay ended).',
          params: userParams,
          response: { 200: { $ref: 'User#' }, ...problemResponses, 404: { $ref: 'Problem#' } },
        },
      },
      async (request) => {
        const operator = operatorOf(request)
        const user = await deps.users.setDisabled(request.params.userId, disabled)
        if (!user) throw notFound(request.params.userId)
        await deps.audit.record({ actor: operator.actor, action: `user.${verb}d`, target: `user:${user.id}`, ip: operator.ip })
        return presentUser(user)
      },
    )
  }

  app.post<{ Params: { userId: string } }>(
    '/users/:userId/unlock',
    {
      schema: {
        tags,
        summary: 'Unlock a locked-out user',
        description: 'Forgets the failed logins and any lockout of the username (GATEHOUSE_LOCKOUT), so the user may log in again at once.',
        params: userParams,
        response: { 200: { $ref: 'User#' }, ...problemResponses, 404: { $ref: 'Problem#' } },
      },
    },
    async (request) => {
      const operator = operatorOf(request)
      const user = await deps.users.find(request.params.userId)
      if (!user) throw notFound(request.params.userId)
      const lockedFor = await deps.guard.unlockUser(user.username).catch((error: unknown) => {
        if (error instanceof LockoutUnavailableError) throw new ProblemError('unavailable', 'The shared lockout store (Redis) is unreachable; the user is still locked. Retry shortly.', { 'retry-after': '5' })
        throw error
      })
      await deps.audit.record({ actor: operator.actor, action: 'user.unlocked', target: `user:${user.id}`, ip: operator.ip, details: { locked_for: lockedFor } })
      return presentUser(viewUser(user))
    },
  )

  app.put<{ Params: { userId: string }; Body: { password: string } }>(
    '/users/:userId/password',
    {
      schema: {
        tags,
        summary: "Set a user's password",
        description: 'Ends every grant the user gave with the old password: their refresh tokens stop working and their access tokens introspect inactive.',
        params: userParams,
        body: passwordSchema,
        response: { 204: { type: 'null', description: 'Changed.' }, ...problemResponses, 404: { $ref: 'Problem#' } },
      },
    },
    async (request, reply) => {
      const operator = operatorOf(request)
      const user = await deps.users.setPassword(request.params.userId, request.body.password)
      if (!user) throw notFound(request.params.userId)
      await deps.audit.record({ actor: operator.actor, action: 'user.password_changed', target: `user:${user.id}`, ip: operator.ip })
      return reply.code(204).send()
    },
  )

  app.post<{ Params: { userId: string } }>(
    '/users/:userId/end-sessions',
    {
      schema: {
        tags,
        summary: "End a user's sessions",
        description: 'Ends every grant the user gave, with every client: their refresh tokens stop working and their access tokens introspect inactive at once, on every instance. The user can still log in again.',
        params: userParams,
        response: {
          200: { type: 'object', properties: { user_id: { type: 'string' }, ended_grants: { type: 'integer', description: 'How many live grants ended.' } }, required: ['user_id', 'ended_grants'] },
          ...problemResponses,
          404: { $ref: 'Problem#' },
        },
      },
    },
    async (request) => {
      const operator = operatorOf(request)
      const result = await deps.users.endSessions(request.params.userId)
      if (!result) throw notFound(request.params.userId)
      await deps.audit.record({ actor: operator.actor, action: 'user.sessions_ended', target: `user:${result.user.id}`, ip: operator.ip, details: { ended_grants: result.ended } })
      return { user_id: result.user.id, ended_grants: result.ended }
    },
  )
}
