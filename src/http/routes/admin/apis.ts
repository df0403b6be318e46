import type { FastifyInstance } from 'fastify'
import type { ApiInput, ApiScopeInput } from '../../../core/apis/api-registry.js'
import { presentApi } from '../../../core/admin/presenters.js'
import { operatorOf, type AdminDeps } from './index.js'
import { ProblemError } from './problem.js'
import { apiCreateSchema, apiUpdateSchema, idParams, problemResponses } from './schemas.js'

interface ApiBody {
  identifier?: string
  name?: string
  scopes?: { name: string; description: string; self_service?: boolean }[]
}

const apiParams = idParams('apiId', 'The API id, or its identifier (URL-encoded).')
const notFound = (ref: string): ProblemError => new ProblemError('notFound', `No API ${ref}.`)
const tags = ['APIs']
const conflict = { $ref: 'Problem#', description: 'The identifier, or a scope name, belongs to another API.' } as const

function inputOf(body: ApiBody): Partial<ApiInput> {
  const scopes = body.scopes?.map((scope): ApiScopeInput => ({ name: scope.name, description: scope.description, selfService: scope.self_service ?? false }))
  return {
    ...(body.identifier !== undefined ? { identifier: body.identifier } : {}),
    ...(body.name !== undefined ? { name: body.name } : {}),
    ...(scopes !== undefined ? { scopes } : {}),
  }
}

/** The API and scope registry: which audiences tokens may name, which scopes the console offers. */
export function registerApiRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get(
    '/apis',
    {
      schema: {
        tags,
        summary: 'List APIs',
        description: 'Every registered API with its scopes, by identifier (the registry is small: no paging).',
        response: { 200: { type: 'object', properties: { apis: { type: 'array', items: { $ref: 'Api#' } } }, required: ['apis'] }, ...problemResponses },
      },
    },
    async () => ({ apis: (await deps.apis.list()).map(presentApi) }),
  )

  app.post<{ Body: ApiBody }>(
    '/apis',
    {
      schema: {
        tags,
        summary: 'Register an API',
        description: 'Scope names are unique across the whole registry; a scope is restricted (operators only) unless `self_service` is true.',
        body: apiCreateSchema,
        response: { 201: { $ref: 'Api#' }, ...problemResponses, 409: conflict },
      },
    },
    async (request, reply) => {
      const operator = operatorOf(request)
      const input = inputOf(request.body)
      const api = await deps.apis.create({ identifier: input.identifier ?? '', name: input.name ?? '', scopes: input.scopes ?? [] })
      await deps.audit.record({ actor: operator.actor, action: 'api.created', target: `api:${api.id}`, ip: operator.ip, details: { identifier: api.identifier, scopes: api.scopes.map((scope) => scope.name) } })
      return reply.code(201).send(presentApi(api))
    },
  )

  app.get<{ Params: { apiId: string } }>(
    '/apis/:apiId',
    { schema: { tags, summary: 'Show an API', params: apiParams, response: { 200: { $ref: 'Api#' }, ...problemResponses, 404: { $ref: 'Problem#' } } } },
    async (request) => {
      const api = await deps.apis.get(request.params.apiId)
      if (!api) throw notFound(request.params.apiId)
      return presentApi(api)
    },
  )

  app.patch<{ Params: { apiId: string }; Body: ApiBody }>(
    '/apis/:apiId',
    {
      schema: {
        tags,
        summary: 'Change an API',
        description: 'Only the fields sent change; `scopes` replaces the whole list. Every instance reloads the registry at once.',
        params: apiParams,
        body: apiUpdateSchema,
        response: { 200: { $ref: 'Api#' }, ...problemResponses, 404: { $ref: 'Problem#' }, 409: conflict },
      },
    },
    async (request) => {
      const operator = operatorOf(request)
      const api = await deps.apis.update(request.params.apiId, inputOf(request.body))
      if (!api) throw notFound(request.params.apiId)
      await deps.audit.record({ actor: operator.actor, action: 'api.updated', target: `api:${api.id}`, ip: operator.ip, details: { fields: Object.keys(request.body).sort(), identifier: api.identifier } })
      return presentApi(api)
    },
  )

  app.delete<{ Params: { apiId: string } }>(
    '/apis/:apiId',
    {
      schema: {
        tags,
        summary: 'Delete an API',
        description: 'Deletes the API and its scopes. Clients keep the scope names they hold; those then name no API.',
        params: apiParams,
        response: { 204: { type: 'null', description: 'Deleted.' }, ...problemResponses, 404: { $ref: 'Problem#' } },
      },
    },
    async (request, reply) => {
      const operator = operatorOf(request)
      const api = await deps.apis.delete(request.params.apiId)
      if (!api) throw notFound(request.params.apiId)
      await deps.audit.record({ actor: operator.actor, action: 'api.deleted', target: `api:${api.id}`, ip: operator.ip, details: { identifier: api.identifier } })
      return reply.code(204).send()
    },
  )
}
