import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { GatehouseMetrics } from '../../metrics/metrics.js'
import { toOAuthError } from '../error-mapping.js'
import { grantOf, outcomeOf } from '../request-labels.js'

export interface MetricsRouteOptions {
  /** When set, a scrape must send `Authorization: Bearer <token>`. */
  token: string | undefined
  /** Prefix of routes that are not token routes (the management API). */
  excludePrefix: string
  /** Cluster mode: the text of all workers' metrics, from the primary. */
  collect?: () => Promise<string>
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * Counts and times every request of a dialect route, and serves `GET /metrics` in the
 * Prometheus text format. The OAuth error code is taken where the error is thrown (onError).
 */
export function registerMetrics(app: FastifyInstance, metrics: GatehouseMetrics, options: MetricsRouteOptions): void {
  const errorCodes = new WeakMap<FastifyRequest, string>()
  // Callback hooks (no promise per request): they run on every token request.
  app.addHook('onError', (request, _reply, error, done) => {
    errorCodes.set(request, toOAuthError(error).code)
    done()
  })
  app.addHook('onResponse', (request, reply, done) => {
    const { config, url: route } = request.routeOptions
    const shaper = config.shaper
    if (shaper && route !== undefined && !route.startsWith(options.excludePrefix)) {
      const outcome = outcomeOf(reply.statusCode)
      metrics.requests.inc({ dialect: shaper.name, route, grant: grantOf(request, shaper.name), outcome, error: errorCodes.get(request) ?? '' })
      metrics.requestDuration.observe({ dialect: shaper.name, route, outcome }, reply.elapsedTime / 1000)
    }
    done()
  })

  app.get('/metrics', async (request, reply) => {
    if (options.token !== undefined) {
      const header = request.headers.authorization?.trim() ?? ''
      const [scheme = '', ...rest] = header.split(/ +/)
      const bearer = scheme.toLowerCase() === 'bearer'
      const given = rest.length === 1 ? (rest[0] ?? '') : ''
      // RFC 6750 §3.1: a Bearer header that is not one b64token is a malformed request, 400
      // (checked after the comparison, so an operator's token outside b64token still works).
      if (bearer && !sameSecret(given, options.token) && !/^[A-Za-z0-9\-._~+/]+=*$/.test(given)) {
        return reply
          .code(400)
          .header('www-authenticate', 'Bearer realm="metrics", error="invalid_request"')
          .send({ error: 'invalid_request', error_description: 'The Authorization header must be Bearer followed by one token.' })
      }
      if (!bearer || !sameSecret(given, options.token)) {
        return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').send({ error: 'unauthorized', error_description: 'A valid metrics bearer token is required.' })
      }
    }
    const text = options.collect ? await options.collect() : await metrics.registry.metrics()
    return reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store').send(text)
  })
}
