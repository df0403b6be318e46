import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Engine } from '../../core/engine.js'
import { OAuthError } from '../../core/errors.js'
import type { IdentityServerPaths } from '../../dialect-config.js'
import { originOf, readClientCredentials } from '../client-auth.js'
import { send } from '../dialects/dialect.js'
import {
  formatTokenResult,
  formatUserInfo,
  formatUserInfoError,
  identityserver,
  identityserverUserInfo,
  IDENTITYSERVER_HEADERS,
  parseTokenRequest,
  readBearerToken,
  readFormParameters,
} from '../dialects/identityserver.js'
import { formatIntrospection } from './introspect.js'
import { dpopChallenge, readAccessToken, readDpop, usesDpopScheme } from '../dpop.js'
import { wireDescription } from '../error-mapping.js'
import type { WireAnswer } from '../dialects/dialect.js'

/** RFC 7009 §2.1 token_type_hint values; anything else is unsupported_token_type (§2.2.1). */
const TOKEN_TYPE_HINTS: ReadonlySet<string> = new Set(['access_token', 'refresh_token'])

function requireToken(token: string | undefined, hint: string | undefined): string {
  if (token === undefined) throw new OAuthError('invalid_request', { description: 'The token parameter is required.' })
  if (hint !== undefined && !TOKEN_TYPE_HINTS.has(hint)) {
    throw new OAuthError('unsupported_token_type', { description: `The token type hint '${hint}' is not supported.` })
  }
  return token
}

/** Contract 3: `/connect/token`, `/connect/userinfo`, `/connect/revocation`, `/connect/introspect`. */
export function registerIdentityServerRoutes(app: FastifyInstance, engine: Engine, paths: IdentityServerPaths): void {
  const config = { shaper: identityserver, requiresTls: true }

  app.post(paths.token, { config }, async (request, reply) => {
    const parameters = readFormParameters(request)
    // RFC 9449 §4.3: a DPoP proof's htu is the issuer's URL of this endpoint, as at /oauth/token.
    const result = await engine.token({ ...parseTokenRequest(parameters, request.headers.authorization), origin: originOf(request), dpop: readDpop(request, engine.issuer) })
    return send(reply, formatTokenResult(result))
  })

  const userinfo = userInfoHandler(engine)
  app.get(paths.userinfo, { config: { shaper: identityserverUserInfo, requiresTls: true } }, userinfo)
  app.post(paths.userinfo, { config: { shaper: identityserverUserInfo, requiresTls: true } }, userinfo)

  app.post(paths.introspection, { config }, async (request, reply) => {
    const parameters = readFormParameters(request)
    const credentials = readClientCredentials(request.headers.authorization, parameters)
    const token = requireToken(parameters.get('token'), parameters.get('token_type_hint'))
    const result = await engine.introspect(credentials, token, originOf(request))
    return send(reply, { status: 200, headers: IDENTITYSERVER_HEADERS, body: formatIntrospection(result) })
  })

  app.post(paths.revocation, { config }, async (request, reply) => {
    const parameters = readFormParameters(request)
    const credentials = readClientCredentials(request.headers.authorization, parameters)
    const token = requireToken(parameters.get('token'), parameters.get('token_type_hint'))
    await engine.revoke(credentials, token, originOf(request))
    return send(reply, { status: 200, headers: IDENTITYSERVER_HEADERS })
  })
}

/**
 * OpenID Connect Core §5.3 UserInfo with RFC 6750 errors: served at `/connect/userinfo` and at
 * the standard `/oauth/userinfo` (the discovery document names the latter).
 */
export function userInfoHandler(engine: Engine): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (request, reply) => {
    if (usesDpopScheme(request.headers.authorization)) return dpopUserInfo(engine, request, reply, readAccessToken(request.headers.authorization))
    const token = readBearerToken(request)
    if (token === undefined) {
      // RFC 6750 §3.1: no credentials at all gets a bare challenge, no error code.
      return send(reply, { status: 401, headers: { ...IDENTITYSERVER_HEADERS, 'www-authenticate': 'Bearer' } })
    }
    const result = await engine.userInfo(token)
    if (!result.ok && result.dpopBound) return send(reply, dpopUserInfoError('invalid_token', 'This access token is DPoP-bound: present it with the DPoP scheme and a proof.'))
    if (!result.ok) {
      const description = result.error === 'insufficient_scope' ? 'The access token lacks the openid scope.' : 'The access token is invalid or expired.'
      return send(reply, formatUserInfoError(result.error, description))
    }
    return send(reply, formatUserInfo(result.claims))
  }
}

/** RFC 9449 §7.1: a UserInfo refusal about DPoP, with the DPoP challenge. */
function dpopUserInfoError(error: 'invalid_token' | 'invalid_dpop_proof' | 'invalid_request' | 'insufficient_scope', text: string): WireAnswer {
  const description = wireDescription(text)
  const status = error === 'insufficient_scope' ? 403 : error === 'invalid_request' ? 400 : 401
  return {
    status,
    headers: { ...IDENTITYSERVER_HEADERS, 'www-authenticate': dpopChallenge(error, description) },
    body: { error, error_description: description },
  }
}

/** `Authorization: DPoP <token>` with a `DPoP` proof whose `ath` is the token's (RFC 9449 §7.1). */
async function dpopUserInfo(engine: Engine, request: FastifyRequest, reply: FastifyReply, presented: { scheme: 'Bearer' | 'DPoP'; token: string } | 'malformed' | undefined): Promise<FastifyReply> {
  if (presented === 'malformed' || presented === undefined) return send(reply, dpopUserInfoError('invalid_request', 'The Authorization header must be DPoP followed by one token.'))
  const checked = await engine.checkPresentedToken({ scheme: 'DPoP', token: presented.token, dpop: readDpop(request, engine.issuer) })
  if (!checked.ok) return send(reply, dpopUserInfoError(checked.error, checked.description))
  const result = await engine.userInfoOf(checked.token)
  if (!result.ok) return send(reply, dpopUserInfoError(result.error, result.error === 'insufficient_scope' ? 'The access token lacks the openid scope.' : 'The access token is invalid or expired.'))
  return send(reply, formatUserInfo(result.claims))
}
