import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { Gatehouse } from '../../../gatehouse.js'
import { ADMIN_PATH } from '../../../core/admin/admin-audience.js'
import { send } from '../../dialects/dialect.js'
import { registerApiKeyRoutes } from './api-keys.js'
import { registerApiRoutes } from './apis.js'
import { registerAuditRoutes } from './audit-events.js'
import { authorizeOperator, type Operator } from './authorize.js'
import { registerClientRoutes } from './clients.js'
import { registerOperatorRoutes } from './operators.js'
import { typeMismatch } from './exact-types.js'
import { problemAnswer, ProblemError, problemShaper } from './problem.js'
import { SHARED_SCHEMAS } from './schemas.js'
import { registerSigningKeyRoutes } from './signing-keys.js'
import { registerUserRoutes } from './users.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the management API's onRequest hook once the bearer token checked out. */
    operator: Operator | null
  }
}

/** Mounted at the admin audience's path (core/admin/admin-audience.ts). */
export const ADMIN_PREFIX = ADMIN_PATH

/** What every management route needs: the admins, the audit log and the caller. */
export type AdminDeps = Pick<Gatehouse, 'clients' | 'users' | 'apiKeys' | 'apis' | 'keys' | 'audit' | 'engine' | 'store' | 'guard' | 'config' | 'operators'>

/** The caller of a route past the onRequest hook (always set there). */
export function operatorOf(request: { operator: Operator | null }): Operator {
  if (!request.operator) throw new Error('management route reached without an operator')
  return request.operator
}

/**
 * The management API under /admin/v1: JSON in and out, RFC 7807 errors, every route behind a
 * bearer token for the admin audience whose subject is an operator (authorize.ts). Register
 * with `{ prefix: ADMIN_PREFIX }`.
 */
export const adminApi: FastifyPluginAsync<{ gatehouse: AdminDeps }> = async (app: FastifyInstance, { gatehouse }) => {
  // Usually added at the root already (so /openapi.json can resolve them).
  for (const schema of SHARED_SCHEMAS) if (!app.getSchema(schema.$id)) app.addSchema(schema)
  app.decorateRequest('operator', null)
  const authorizeDeps = { engine: gatehouse.engine, operators: gatehouse.store, issuer: gatehouse.config.issuer }

  // Every route of this plugin answers errors as problems (the shared error handler asks).
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), shaper: problemShaper, requiresTls: true }
    route.schema = { security: [{ bearerAuth: [] }], ...(route.schema ?? {}) }
  })

  // onRequest: authorization comes before the body is even read (401 before 400).
  app.addHook('onRequest', async (request) => {
    try {
      request.operator = await authorizeOperator(authorizeDeps, request)
    } catch (error) {
      if (request.headers.authorization !== undefined) {
        gatehouse.audit.note({ actor: 'anonymous', action: 'management.authorization_failed', ip: request.ip, details: { path: request.url.split('?')[0], reason: (error as Error).message } })
      }
      throw error
    }
  })

  // JSON bodies are taken as typed, without Ajv's coercion (exact-types.ts); queries still coerce.
  app.addHook('preValidation', async (request) => {
    const schema = request.routeOptions.schema?.body as Parameters<typeof typeMismatch>[0]
    const problem = typeMismatch(schema, request.body)
    if (problem !== undefined) throw new ProblemError('validation', problem)
  })

  // RFC 9111 §5.2.2.5: answers carry client, user and key data (problems too): no cache keeps them.
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('cache-control', 'no-store')
    done(null, payload)
  })

  app.setNotFoundHandler(async (request, reply) => send(reply, problemAnswer('notFound', `No management operation ${request.method} ${request.url.split('?')[0]}.`)))

  registerClientRoutes(app, gatehouse)
  registerApiKeyRoutes(app, gatehouse)
  registerApiRoutes(app, gatehouse)
  registerUserRoutes(app, gatehouse)
  registerSigningKeyRoutes(app, gatehouse)
  registerAuditRoutes(app, gatehouse)
  registerOperatorRoutes(app, gatehouse)
}
