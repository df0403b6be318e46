import type { FastifyInstance } from 'fastify'
import { presentOperator } from '../../../core/admin/presenters.js'
import { OPERATOR_KINDS, OPERATOR_ROLES, type OperatorKind, type OperatorRole } from '../../../core/admin/operator-store.js'
import { requireAdminRole } from './authorize.js'
import { operatorOf, type AdminDeps } from './index.js'
import { ProblemError } from './problem.js'
import { problemResponses } from './schemas.js'

const tags = ['Operators']
const operatorParams = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kind: { type: 'string', enum: OPERATOR_KINDS, description: 'user or client.' },
    subjectId: { type: 'string', minLength: 1, maxLength: 320, description: 'The client id, or the user id or username.' },
  },
  required: ['kind', 'subjectId'],
} as const
const roleBody = {
  type: 'object',
  additionalProperties: false,
  properties: { role: { type: 'string', enum: OPERATOR_ROLES, description: 'admin: everything; read-only: GET and HEAD only.' } },
  required: ['role'],
} as const
const notFound = (kind: string, id: string): ProblemError => new ProblemError('notFound', `No ${kind} ${id}.`)

type Params = { kind: OperatorKind; subjectId: string }

/** The operator list (docs/management.md); only the admin role may read or change it. */
export function registerOperatorRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get(
    '/operators',
    {
      schema: {
        tags,
        summary: 'List operators',
        description: 'Every user and client that may use the management API, with its role. Admin role only.',
        response: { 200: { type: 'object', properties: { operators: { type: 'array', items: { $ref: 'Operator#' } } }, required: ['operators'] }, ...problemResponses },
      },
    },
    async (request) => {
      requireAdminRole(operatorOf(request))
      return { operators: (await deps.operators.list()).map(presentOperator) }
    },
  )

  app.put<{ Params: Params; Body: { role: OperatorRole } }>(
    '/operators/:kind/:subjectId',
    {
      schema: {
        tags,
        summary: 'Add an operator or change its role',
        description: 'Puts an existing user (by id or username) or client on the operator list. 201 when added, 200 when it was on the list already (its role is now the one sent). Admin role only.',
        params: operatorParams,
        body: roleBody,
        response: { 200: { $ref: 'Operator#' }, 201: { $ref: 'Operator#' }, ...problemResponses, 404: { $ref: 'Problem#', description: 'No such user or client.' } },
      },
    },
    async (request, reply) => {
      const operator = operatorOf(request)
      requireAdminRole(operator)
      const { kind, subjectId } = request.params
      const put = await deps.operators.put(kind, subjectId, request.body.role)
      if (!put) throw notFound(kind, subjectId)
      if (put.previous?.role !== put.operator.role) {
        const action = put.previous ? 'operator.role_changed' : 'operator.added'
        await deps.audit.record({ actor: operator.actor, action, target: `${kind}:${put.operator.id}`, ip: operator.ip, details: { role: put.operator.role } })
      }
      return reply.code(put.previous ? 200 : 201).send(presentOperator(put.operator))
    },
  )

  app.delete<{ Params: Params }>(
    '/operators/:kind/:subjectId',
    {
      schema: {
        tags,
        summary: 'Remove an operator',
        description: 'Takes a user or client off the operator list; its management tokens are refused from the next request on. Admin role only.',
        params: operatorParams,
        response: { 204: { type: 'null', description: 'Removed.' }, ...problemResponses, 404: { $ref: 'Problem#', description: 'Not on the operator list.' } },
      },
    },
    async (request, reply) => {
      const operator = operatorOf(request)
      requireAdminRole(operator)
      const { kind, subjectId } = request.params
      const removed = await deps.operators.remove(kind, subjectId)
      if (!removed) throw new ProblemError('notFound', `${kind} ${subjectId} is not an operator.`)
      await deps.audit.record({ actor: operator.actor, action: 'operator.removed', target: `${kind}:${removed.id}`, ip: operator.ip, details: { role: removed.role } })
      return reply.code(204).send()
    },
  )
}
