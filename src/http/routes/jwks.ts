import type { FastifyInstance } from 'fastify'
import type { KeyRing } from '../../core/tokens/key-ring.js'

/** RFC 7517 JWK Set of every key whose tokens may still be live. */
export function registerJwksRoute(app: FastifyInstance, keys: KeyRing, path: string): void {
  app.get(path, async (_request, reply) =>
    // Short cache: verifiers re-fetch on an unknown kid anyway, and a new key is published
    // the moment it starts signing.
    reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'public, max-age=60').send(keys.jwksJson),
  )
}
