import type { FastifyInstance } from 'fastify'
import type { Engine } from '../../core/engine.js'
import { OAuthError } from '../../core/errors.js'
import type { TokenIntrospection } from '../../core/types.js'
import { originOf, readClientCredentials } from '../client-auth.js'
import { NO_STORE_HEADERS, send } from '../dialects/dialect.js'
import { readRequestParameters, rfc6749 } from '../dialects/rfc6749.js'

/** RFC 7662 §2.2 response members. */
export function formatIntrospection(result: TokenIntrospection): Record<string, unknown> {
  if (!result.active) return { active: false }
  return {
    active: true,
    ...(result.scope !== undefined && result.scope !== '' ? { scope: result.scope } : {}),
    client_id: result.clientId,
    sub: result.subject,
    ...(result.audience !== undefined ? { aud: result.audience } : {}),
    iss: result.issuer,
    exp: result.expiresAt,
    iat: result.issuedAt,
    ...(result.jti !== undefined ? { jti: result.jti } : {}),
    // RFC 7662 §2.2: token_type is an access token type (RFC 6749 §7.1); a refresh token has none.
    ...(result.tokenKind === 'access_token' ? { token_type: result.jkt !== undefined ? 'DPoP' : 'Bearer' } : {}),
    // RFC 9449 §6.2: the key a DPoP-bound token is bound to.
    ...(result.jkt !== undefined ? { cnf: { jkt: result.jkt } } : {}),
    // RFC 8693 §4.1: the actor of an exchanged token.
    ...(result.act !== undefined ? { act: result.act } : {}),
  }
}

export function registerIntrospectionRoute(app: FastifyInstance, engine: Engine, path: string): void {
  app.post(path, { config: { shaper: rfc6749, requiresTls: true } }, async (request, reply) => {
    const parameters = readRequestParameters(request)
    const credentials = readClientCredentials(request.headers.authorization, parameters)
    const token = parameters.get('token')
    if (token === undefined) throw new OAuthError('invalid_request', { description: 'The token parameter is required.' })
    const result = await engine.introspect(credentials, token, originOf(request))
    return send(reply, { status: 200, headers: NO_STORE_HEADERS, body: formatIntrospection(result) })
  })
}
