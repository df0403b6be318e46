import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Tracer } from '../core/tracer.js'
import type { TracingConfig } from './tracing-config.js'

/** OpenTelemetry tracing of this process, once started (docs/operations.md, "Tracing"). */
export interface Tracing {
  /** The core's port: spans for client authentication, grants, store calls and jwks_uri fetches. */
  tracer: Tracer
  /** Adds the hooks that make a server span of every request; call before routes are registered. */
  instrument(app: FastifyInstance): void
  /** Ends tracing: the spans still queued are sent (flushed), then the SDK stops. */
  shutdown(): Promise<void>
}

/**
 * Starts the OpenTelemetry SDK. The SDK and exporter are imported here, dynamically, so a
 * Gatehouse without tracing configured never loads them (and registers no hook): the cost of
 * tracing off is nothing.
 */
export async function startTracing(config: TracingConfig, logger: Logger): Promise<Tracing> {
  const { startOpenTelemetry } = await import('./open-telemetry.js')
  const tracing = startOpenTelemetry(config)
  // The URL is not logged: OTEL_EXPORTER_OTLP_*ENDPOINT may carry credentials.
  logger.info({ serviceName: config.serviceName }, 'tracing on: spans are exported over OTLP/HTTP')
  return tracing
}
