import type { FastifyInstance } from 'fastify'
import { operatorOf, type AdminDeps } from './index.js'
import { presentSigningKey } from './presenters.js'
import { problemResponses } from './schemas.js'
import { SIGNING_ALGS, type SigningAlg } from '../../../core/types.js'

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
        summary: 'Rotate the signing keys',
        description:
          'Adds a new active key for each algorithm (ES256 and RS256), or only for `alg`; each previous key keeps verifying (and stays in the JWKS) until the last token it signed has expired.',
        body: { type: ['object', 'null'], additionalProperties: false, properties: { alg: { type: 'string', enum: SIGNING_ALGS, description: 'Rotate only the key of this algorithm.' } } },
        response: { 201: { type: 'object', properties: { keys: { type: 'array', items: { $ref: 'SigningKey#' } } }, required: ['keys'] }, ...problemResponses },
      },
    },
    async (request, reply) => {
      const operator = operatorOf(request)
      const alg = (request.body as { alg?: SigningAlg } | null | undefined)?.alg
      const kids = await deps.keys.rotate(alg)
      for (const kid of kids) await deps.audit.record({ actor: operator.actor, action: 'signing_key.rotated', target: `signing_key:${kid}`, ip: operator.ip })
      const described = deps.keys.describe()
      const keys = kids.map((kid) => {
        const key = described.find((candidate) => candidate.kid === kid)
        if (!key) throw new Error(`rotated key ${kid} is missing from the key ring`)
        return presentSigningKey(key)
      })
      return reply.code(201).send({ keys })
    },
  )
}
