import type { FastifyInstance, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { rateLimited } from '../core/abuse/abuse-guard.js'
import type { RateLimit, RateLimiter } from '../core/abuse/limits.js'

/**
 * The per-source-address limit, checked before the body is read, on every route that answers
 * in a dialect's shape (token, introspection, revocation, userinfo of every dialect, and the
 * management API). JWKS, metadata, health and metrics stay unlimited: resource servers behind
 * one NAT fetch them. The refusal is passed on as an error, so the route's dialect shapes the 429.
 *
 * A callback hook, not an async one: with buckets in memory the answer is known at once, and
 * this runs on every request (the token endpoint's throughput target, docs/design.md).
 */
export function registerAddressRateLimit(app: FastifyInstance, limiter: RateLimiter, limit: RateLimit | null, onRefused: () => void): void {
  if (limit === null) return
  const decide = (request: FastifyRequest, retryAfter: number, done: HookHandlerDoneFunction): void => {
    if (retryAfter === 0) return done()
    onRefused()
    done(rateLimited(retryAfter, `address ${request.ip} is over its rate limit`))
  }
  app.addHook('onRequest', (request, _reply, done) => {
    if (!request.routeOptions.config.shaper) return done()
    const retryAfter = limiter.consume(`ip:${request.ip}`, limit)
    if (typeof retryAfter === 'number') return decide(request, retryAfter, done)
    retryAfter.then((seconds) => decide(request, seconds, done), done)
  })
}
