import type { FastifyInstance } from 'fastify'
import { presentApiKey } from '../../../core/admin/presenters.js'
import { operatorOf, type AdminDeps } from './index.js'
import { ProblemError } from './problem.js'
import { apiKeyCreateSchema, apiKeyQuerySchema, apiKeySchema, idParams, problemResponses } from './schemas.js'

interface ApiKeyBody {
  name: string
  client_id?: string
  scopes?: string[]
  audience?: string | null
  expires_in?: number
}

const keyParams = idParams('keyId', 'The key id: the six hex characters before the colon.')
const tags = ['API keys']

export function registerApiKeyRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get<{ Querystring: { limit: number; after?: string; client_id?: string } }>(
    '/api-keys',
    {
      schema: {
        tags,
        summary: 'List API keys',
        querystring: apiKeyQuerySchema,
        response: {
          200: { type: 'object', properties: { api_keys: { type: 'array', items: { $ref: 'ApiKey#' } }, next_after: { type: ['string', 'null'] } }, required: ['api_keys', 'next_after'] },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const { limit, after, client_id: clientId } = request.query
      const keys = await deps.apiKeys.list({ limit, ...(after !== undefined ? { after } : {}), ...(clientId !== undefined ? { clientId } : {}) })
      return { api_keys: keys.map(presentApiKey), next_after: keys.length === limit ? (keys.at(-1)?.id ?? null) : null }
    },
  )

  app.post<{ Body: ApiKeyBody }>(
    '/api-keys',
    {
      schema: {
        tags,
        summary: 'Create an API key',
        description: 'The answer carries `api_key` (`KEYID:SECRET`), shown only this once. Without `client_id` a client is created for the key alone.',
        body: apiKeyCreateSchema,
        response: {
          201: { type: 'object', additionalProperties: true, properties: { ...apiKeySchema.properties, api_key: { type: 'string' } }, required: [...apiKeySchema.required, 'api_key'] },
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const operator = operatorOf(request)
      const body = request.body
      const { key, apiKey } = await deps.apiKeys.create({
        name: body.name,
        ...(body.client_id !== undefined ? { clientId: body.client_id } : {}),
        ...(body.scopes !== undefined ? { scopes: body.scopes } : {}),
        ...(body.audience !== undefined ? { audience: body.audience } : {}),
        ...(body.expires_in !== undefined ? { expiresIn: body.expires_in } : {}),
      })
      await deps.audit.record({ actor: operator.actor, action: 'api_key.created', target: `api_key:${key.id}`, ip: operator.ip, details: { name: key.name, client_id: key.clientId, scopes: key.scopes } })
      return reply.code(201).header('cache-control', 'no-store').send({ ...presentApiKey(key), api_key: apiKey })
    },
  )

  app.get<{ Params: { keyId: string } }>(
    '/api-keys/:keyId',
    { schema: { tags, summary: 'Show an API key', params: keyParams, response: { 200: { $ref: 'ApiKey#' }, ...problemResponses, 404: { $ref: 'Problem#' } } } },
    async (request) => {
      const key = await deps.apiKeys.get(request.params.keyId)
      if (!key) throw new ProblemError('notFound', `No API key with id ${request.params.keyId}.`)
      return presentApiKey(key)
    },
  )

  app.post<{ Params: { keyId: string } }>(
    '/api-keys/:keyId/revoke',
    {
      schema: {
        tags,
        summary: 'Revoke an API key',
        description: 'The key stops working at once. Revoking a revoked key changes nothing.',
        params: keyParams,
        response: { 200: { $ref: 'ApiKey#' }, ...problemResponses, 404: { $ref: 'Problem#' } },
      },
    },
    async (request) => {
      const operator = operatorOf(request)
      const { keyId } = request.params
      if (!(await deps.apiKeys.revoke(keyId))) throw new ProblemError('notFound', `No API key with id ${keyId}.`)
      await deps.audit.record({ actor: operator.actor, action: 'api_key.revoked', target: `api_key:${keyId}`, ip: operator.ip })
      const key = await deps.apiKeys.get(keyId)
      if (!key) throw new ProblemError('notFound', `No API key with id ${keyId}.`)
      return presentApiKey(key)
    },
  )
}
