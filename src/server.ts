import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Config } from './config.js'
import { createGatehouse, type Gatehouse, type GatehouseOptions } from './gatehouse.js'
import { buildApp } from './http/app.js'
import { startTracing } from './tracing/tracing.js'

export interface RunningServer {
  gatehouse: Gatehouse
  app: FastifyInstance
  /** The base URL it listens on, e.g. http://127.0.0.1:8787 (https with --tls-cert). */
  url: string
  close(): Promise<void>
}

/** Starts Gatehouse on config.host:config.port (port 0 picks a free one). */
export async function startServer(config: Config, logger: Logger, options: Omit<GatehouseOptions, 'logger'> = {}): Promise<RunningServer> {
  // Only when configured: otherwise nothing of OpenTelemetry is loaded (a dynamic import).
  const tracing = config.tracing ? await startTracing(config.tracing, logger) : undefined
  let gatehouse: Gatehouse
  try {
    gatehouse = await createGatehouse(config, { logger, background: true, ...options, ...(tracing ? { tracing } : {}) })
  } catch (error) {
    await tracing?.shutdown().catch(() => {})
    throw error
  }
  const app = await buildApp(gatehouse, logger)
  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (error) {
    await gatehouse.close()
    await tracing?.shutdown().catch(() => {})
    throw error
  }
  if (config.allowGetTokenRequests) {
    logger.warn('GET /oauth/token is enabled: client secrets will appear in URLs and access logs of any proxy in front of Gatehouse')
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  return {
    gatehouse,
    app,
    url: `${config.tls ? 'https' : 'http'}://${host}:${port}`,
    async close() {
      await app.close()
      await gatehouse.close()
      // Last, so the spans of the requests finished above are sent (flushed) before the process exits.
      await tracing?.shutdown()
    },
  }
}
