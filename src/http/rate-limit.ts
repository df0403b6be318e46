import type { FastifyInstance } from 'fastify'
import { rateLimited } from '../core/abuse/abuse-guard.js'
import type { RateLimit, RateLimiter } from '../core/abuse/limits.js'

/**
 * The per-source-address limit, checked before the body is read, on every route that answers
 * in a dialect's shape (token, introspection, revocation, userinfo of every dialect, and the
 * management API). JWKS, metadata, health and metrics stay unlimited: resource servers behind
 * one NAT fetch them. The refusal is thrown, so the route's dialect shapes the 429.
 */
export function registerAddressRateLimit(app: FastifyInstance, limiter: RateLimiter, limit: RateLimit | null, onRefused: () => void): void {
  if (limit === null) return
  app.addHook('onRequest', async (request) => {
    if (!request.routeOptions.config.shaper) return
    const retryAfter = await limiter.consume(`ip:${request.ip}`, limit)
    if (retryAfter === 0) return
    onRefused()
    throw rateLimited(retryAfter, `address ${request.ip} is over its rate limit`)
  })
}
