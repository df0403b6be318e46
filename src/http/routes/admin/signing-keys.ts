import type { FastifyInstance } from 'fastify'
import { operatorOf, type AdminDeps } from './index.js'
import { presentSigningKey } from './presenters.js'
import { problemResponses } from './schemas.js'

const tags = ['Signing keys']

export function registerSigningKeyRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get(
    '/signing-keys',
    {
      schema: {
        tags,
        summary: 'List signing keys',
        description: 'Public facts only: no key material. The active key signs; retired keys stay published until their tokens expire.',
        response: { 200: { type: 'object', properties: { keys: { type: 'array', items: { $ref: 'SigningKey#' } } }, required: ['keys'] }, ...problemResponses },
      },
    },
    async () => ({ keys: deps.keys.describe().map(presentSigningKey) }),
  )

  app.post(
    '/signing-keys/rotate',
    {
      schema: {
        tags,
        summary: 'Rotate the signing key',
        description: 'Adds a new active key; the previous one keeps verifying (and stays in the JWKS) until the last token it signed has expired.',
        response: { 201: { $ref: 'SigningKey#' }, ...problemResponses },
      },
    },
    async (request, reply) => {
      const operator = operatorOf(request)
      const kid = await deps.keys.rotate()
      await deps.audit.record({ actor: operator.actor, action: 'signing_key.rotated', target: `signing_key:${kid}`, ip: operator.ip })
      const key = deps.keys.describe().find((candidate) => candidate.kid === kid)
      if (!key) throw new Error(`rotated key ${kid} is missing from the key ring`)
      return reply.code(201).send(presentSigningKey(key))
    },
  )
}
