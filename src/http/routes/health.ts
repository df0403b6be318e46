import type { FastifyInstance } from 'fastify'
import type { Store } from '../../store/types.js'

/** `/healthz`: the process is alive. `/readyz`: it can reach its database. */
export function registerHealthRoutes(app: FastifyInstance, store: Pick<Store, 'ping'>): void {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) => {
    try {
      await store.ping()
      return { status: 'ready' }
    } catch {
      return reply.code(503).header('retry-after', '5').send({ status: 'unavailable', reason: 'database unreachable' })
    }
  })
}
