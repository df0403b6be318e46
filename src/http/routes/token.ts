import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Engine } from '../../core/engine.js'
import { OAuthError } from '../../core/errors.js'
import { originOf } from '../client-auth.js'
import { send } from '../dialects/dialect.js'
import { readDpop } from '../dpop.js'
import { formatTokenResult, parseTokenRequest, readRequestParameters, rfc6749 } from '../dialects/rfc6749.js'

export interface TokenRouteOptions {
  path: string
  /** Seed 002 compatibility: GET with a query string. Puts secrets in URLs, so off by default. */
  allowGet: boolean
  /** The issuer: the `htu` of a DPoP proof is the issuer's URL of this endpoint (RFC 9449 §4.3). */
  issuer: string
}

/** Contract 1: `POST /oauth/token` (RFC 6749 §3.2), form or JSON body. */
export function registerTokenRoute(app: FastifyInstance, engine: Engine, options: TokenRouteOptions): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const tokenRequest = parseTokenRequest(readRequestParameters(request), request.headers.authorization)
    tokenRequest.origin = originOf(request)
    tokenRequest.dpop = readDpop(request, options.issuer)
    const result = await engine.token(tokenRequest)
    return send(reply, formatTokenResult(result))
  }
  app.post(options.path, { config: { shaper: rfc6749, requiresTls: true } }, handler)
  app.get(options.path, { config: { shaper: rfc6749, requiresTls: true } }, async (request, reply) => {
    if (options.allowGet) return handler(request, reply)
    reply.header('allow', 'POST')
    const answer = rfc6749.formatError(new OAuthError('invalid_request', { description: 'Use POST: a GET would put credentials in the URL.' }), request)
    return send(reply, { ...answer, status: 405 })
  })
}
