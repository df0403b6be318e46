import type { FastifyInstance } from 'fastify'
import type { Engine } from '../../core/engine.js'
import type { WrappedPaths } from '../../dialect-config.js'
import { originOf } from '../client-auth.js'
import { send } from '../dialects/dialect.js'
import { formatTokenResult, parseTokenRequest, wrapped } from '../dialects/wrapped.js'
import { readParameters } from '../parameters.js'

/** Contract 4: `POST /v1/auth/token`, form or JSON body. */
export function registerWrappedRoutes(app: FastifyInstance, engine: Engine, paths: WrappedPaths): void {
  app.post(paths.token, { config: { shaper: wrapped, requiresTls: true } }, async (request, reply) => {
    const parameters = readParameters(request.body)
    const result = await engine.token({ ...parseTokenRequest(parameters, request.headers.authorization), origin: originOf(request) })
    return send(reply, formatTokenResult(result))
  })
}
