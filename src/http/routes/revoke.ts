import type { FastifyInstance } from 'fastify'
import type { Engine } from '../../core/engine.js'
import { OAuthError } from '../../core/errors.js'
import { originOf, readClientCredentials } from '../client-auth.js'
import { NO_STORE_HEADERS, send } from '../dialects/dialect.js'
import { readRequestParameters, rfc6749 } from '../dialects/rfc6749.js'

/** RFC 7009 §2.1: 200 with an empty body whether or not there was anything to revoke. */
export function registerRevocationRoute(app: FastifyInstance, engine: Engine, path: string): void {
  app.post(path, { config: { shaper: rfc6749, requiresTls: true } }, async (request, reply) => {
    const parameters = readRequestParameters(request)
    const credentials = readClientCredentials(request.headers.authorization, parameters)
    const token = parameters.get('token')
    if (token === undefined) throw new OAuthError('invalid_request', { description: 'The token parameter is required.' })
    await engine.revoke(credentials, token, originOf(request))
    return send(reply, { status: 200, headers: NO_STORE_HEADERS })
  })
}
