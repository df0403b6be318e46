import Fastify, { type FastifyInstance } from 'fastify'
import { fastifyBearerAuth } from '../../src/sdk/fastify.js'
import type { Verifier } from '../../src/sdk/verify.js'
import { sampleRecords, type WorklistRecord } from './records.js'

export interface WorklistApiOptions {
  verifier: Verifier
  realm?: string
  records?: WorklistRecord[]
  logger?: boolean
}

const MAX_LIMIT = 100

/** `offset` and `limit` of `GET /api/records/worklist`, or the reason they are refused. */
export function readPage(query: Record<string, unknown>): { offset: number; limit: number } | { error: string } {
  const offset = readInteger(query.offset, 0)
  const limit = readInteger(query.limit, 20)
  if (offset === undefined || offset < 0) return { error: 'offset must be an integer of 0 or more' }
  if (limit === undefined || limit < 1 || limit > MAX_LIMIT) return { error: `limit must be an integer from 1 to ${MAX_LIMIT}` }
  return { offset, limit }
}

function readInteger(value: unknown, fallback: number): number | undefined {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) return undefined
  return Number(value)
}

/**
 * Seed 001's resource server: `GET /api/records/worklist?offset=0&limit=20`, for tokens with
 * the `integrated-api` scope. Everything but `/healthz` needs a token.
 */
export async function buildWorklistApi(options: WorklistApiOptions): Promise<FastifyInstance> {
  const records = options.records ?? sampleRecords()
  const app = Fastify({ logger: options.logger ?? false })
  await app.register(fastifyBearerAuth, { verifier: options.verifier, realm: options.realm ?? 'worklist', requiredScopes: ['integrated-api'] })

  app.get('/healthz', { config: { gatehouse: { public: true } } }, async () => ({ status: 'ok' }))

  app.get('/api/records/worklist', async (request, reply) => {
    const page = readPage(request.query as Record<string, unknown>)
    if ('error' in page) return reply.code(400).send({ error: 'invalid_request', error_description: page.error })
    return {
      offset: page.offset,
      limit: page.limit,
      total: records.length,
      records: records.slice(page.offset, page.offset + page.limit),
    }
  })
  return app
}
