import type { FastifyInstance } from 'fastify'
import { clientSettingsFromWire, presentClient, type ClientWire as ClientBody } from '../../../core/admin/presenters.js'
import type { ClientSettings } from '../../../core/admin/client-admin.js'
import { operatorOf, type AdminDeps } from './index.js'
import { ProblemError } from './problem.js'
import { clientCreateSchema, clientUpdateSchema, clientWithSecretSchema, idParams, pageQuerySchema, problemResponses } from './schemas.js'


const clientParams = idParams('clientId', 'The client id.')
const notFound = (id: string): ProblemError => new ProblemError('notFound', `No client with id ${id}.`)
const tags = ['Clients']

export function registerClientRoutes(app: FastifyInstance, deps: AdminDeps): void {
  /** `allowed_users` takes ids or usernames; the client stores user ids. An unknown user is a 400. */
  const settingsFrom = async (body: ClientBody): Promise<Partial<ClientSettings>> => {
    const settings = clientSettingsFromWire(body)
    if (settings.allowedUsers) {
      const ids: string[] = []
      for (const ref of settings.allowedUsers) {
        const user = await deps.users.find(ref)
        if (!user) throw new ProblemError('validation', `allowed_users: no user ${ref}.`)
        ids.push(user.id)
      }
      settings.allowedUsers = ids
    }
    return settings
  }

  app.get<{ Querystring: { limit: number; after?: string } }>(
    '/clients',
    {
      schema: {
        tags,
        summary: 'List clients',
        description: 'Pages by client id: pass `next_after` as `after` for the next page.',
        querystring: pageQuerySchema,
        response: {
          200: { type: 'object', properties: { clients: { type: 'array', items: { $ref: 'Client#' } }, next_after: { type: ['string', 'null'] } }, required: ['clients', 'next_after'] },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const { limit, after } = request.query
      const clients = await deps.clients.list({ limit, ...(after !== undefined ? { after } : {}) })
      return { clients: clients.map(presentClient), next_after: clients.length === limit ? (clients.at(-1)?.id ?? null) : null }
    },
  )

  app.post<{ Body: ClientBody }>(
    '/clients',
    {
      schema: {
        tags,
        summary: 'Create a client',
        description: 'The answer carries `client_secret`, shown only this once; a public client (`token_endpoint_auth_method: none`) and a `private_key_jwt` client (which registers `jwks` or `jwks_uri` instead) have none, and their answer no `client_secret` member.',
        body: clientCreateSchema,
        response: { 201: clientWithSecretSchema, ...problemResponses, 409: { $ref: 'Problem#', description: 'The client id is taken.' } },
      },
    },
    async (request, reply) => {
      const operator = operatorOf(request)
      const { client, clientSecret } = await deps.clients.create({
        ...(await settingsFrom(request.body)),
        name: request.body.name ?? '',
        ...(request.body.client_id !== undefined ? { id: request.body.client_id } : {}),
      })
      await deps.audit.record({ actor: operator.actor, action: 'client.created', target: `client:${client.id}`, ip: operator.ip, details: { name: client.name, grant_types: client.grantTypes, scopes: client.scopes, token_endpoint_auth_method: client.tokenEndpointAuthMethod } })
      return reply.code(201).header('cache-control', 'no-store').send({ ...presentClient(client), ...(clientSecret !== null ? { client_secret: clientSecret } : {}) })
    },
  )

  app.get<{ Params: { clientId: string } }>(
    '/clients/:clientId',
    { schema: { tags, summary: 'Show a client', params: clientParams, response: { 200: { $ref: 'Client#' }, ...problemResponses, 404: { $ref: 'Problem#' } } } },
    async (request) => {
      const client = await deps.clients.get(request.params.clientId)
      if (!client) throw notFound(request.params.clientId)
      return presentClient(client)
    },
  )

  app.patch<{ Params: { clientId: string }; Body: ClientBody }>(
    '/clients/:clientId',
    {
      schema: {
        tags,
        summary: 'Change a client',
        description: 'Only the fields sent change. The cached client is dropped at once on this instance.',
        params: clientParams,
        body: clientUpdateSchema,
        response: { 200: { $ref: 'Client#' }, ...problemResponses, 404: { $ref: 'Problem#' } },
      },
    },
    async (request) => {
      const operator = operatorOf(request)
      const client = await deps.clients.update(request.params.clientId, await settingsFrom(request.body))
      if (!client) throw notFound(request.params.clientId)
      await deps.audit.record({ actor: operator.actor, action: 'client.updated', target: `client:${client.id}`, ip: operator.ip, details: { fields: Object.keys(request.body).sort() } })
      return presentClient(client)
    },
  )

  app.post<{ Params: { clientId: string }; Querystring: { revoke_tokens?: boolean } }>(
    '/clients/:clientId/secret',
    {
      schema: {
        tags,
        summary: 'Rotate a client secret',
        description:
          'Replaces the secret; the old one stops working at once. The new secret is shown only in this answer. A public client (auth method none) or a private_key_jwt client has no secret: 400. With `revoke_tokens=true` every token issued so far stops working too: the client\'s grants end and its earlier access tokens introspect inactive.',
        params: clientParams,
        querystring: { type: 'object', properties: { revoke_tokens: { type: 'boolean', default: false, description: 'End every grant of the client and make its earlier access tokens inactive.' } }, additionalProperties: false },
        response: {
          200: { type: 'object', properties: { client_id: { type: 'string' }, client_secret: { type: 'string' } }, required: ['client_id', 'client_secret'] },
          ...problemResponses,
          404: { $ref: 'Problem#' },
        },
      },
    },
    async (request, reply) => {
      const operator = operatorOf(request)
      const revokeTokens = request.query.revoke_tokens === true
      const rotated = await deps.clients.rotateSecret(request.params.clientId, { revokeTokens })
      if (!rotated) throw notFound(request.params.clientId)
      await deps.audit.record({ actor: operator.actor, action: 'client.secret_rotated', target: `client:${rotated.client.id}`, ip: operator.ip, details: { revoke_tokens: revokeTokens } })
      return reply.header('cache-control', 'no-store').send({ client_id: rotated.client.id, client_secret: rotated.clientSecret })
    },
  )

  app.post<{ Params: { clientId: string } }>(
    '/clients/:clientId/revoke-tokens',
    {
      schema: {
        tags,
        summary: 'End every token of a client',
        description: 'Every grant of the client ends and its earlier access tokens (client_credentials ones included) introspect inactive, whatever the client authenticates with: after changing a private_key_jwt client\'s keys, or when a public client\'s tokens leaked.',
        params: clientParams,
        response: {
          200: { type: 'object', properties: { client_id: { type: 'string' }, grants_ended: { type: 'integer' } }, required: ['client_id', 'grants_ended'] },
          ...problemResponses,
          404: { $ref: 'Problem#' },
        },
      },
    },
    async (request, reply) => {
      const operator = operatorOf(request)
      const revoked = await deps.clients.revokeTokens(request.params.clientId)
      if (!revoked) throw notFound(request.params.clientId)
      await deps.audit.record({ actor: operator.actor, action: 'client.tokens_revoked', target: `client:${revoked.client.id}`, ip: operator.ip, details: { grants_ended: revoked.ended } })
      return reply.header('cache-control', 'no-store').send({ client_id: revoked.client.id, grants_ended: revoked.ended })
    },
  )

  app.delete<{ Params: { clientId: string } }>(
    '/clients/:clientId',
    {
      schema: {
        tags,
        summary: 'Delete a client',
        description: 'Deletes the client with its refresh tokens, opaque tokens and API keys.',
        params: clientParams,
        response: { 204: { type: 'null', description: 'Deleted.' }, ...problemResponses, 404: { $ref: 'Problem#' } },
      },
    },
    async (request, reply) => {
      const operator = operatorOf(request)
      if (!(await deps.clients.delete(request.params.clientId))) throw notFound(request.params.clientId)
      await deps.audit.record({ actor: operator.actor, action: 'client.deleted', target: `client:${request.params.clientId}`, ip: operator.ip })
      return reply.code(204).send()
    },
  )
}
