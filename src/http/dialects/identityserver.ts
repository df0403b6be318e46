import type { FastifyRequest } from 'fastify'
import { OAuthError } from '../../core/errors.js'
import type { DialectPolicy, TokenRequest, TokenResult } from '../../core/types.js'
import type { UserInfoClaims } from '../../core/userinfo.js'
import { readClientCredentials } from '../client-auth.js'
import { retryAfterHeaders, standardStatus, toOAuthError } from '../error-mapping.js'
import { readParameters, type Parameters } from '../parameters.js'
import type { ErrorShaper, WireAnswer } from './dialect.js'

/**
 * Contract 3 (seed 001): IdentityServer's `/connect/*` endpoints. IdentityServer reads only
 * forms, answers every token error with 400 (never 401), defaults an omitted scope to all the
 * client may have, and issues a refresh token only when `offline_access` is granted.
 */

export const IDENTITYSERVER_POLICY: DialectPolicy = {
  scopeDefault: 'all-allowed',
  refreshTokenRule: 'offline_access',
  missingUserCredentials: 'invalid_grant',
}

/** IdentityServer's own cache headers on token answers, successes and errors alike. */
export const IDENTITYSERVER_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store, no-cache, max-age=0',
  pragma: 'no-cache',
}

const GRANTS: ReadonlySet<string> = new Set(['password', 'client_credentials', 'refresh_token'])

/** IdentityServer reads form posts only (OAuth 2.0 §3.2); a JSON body is `invalid_request`. */
export function readFormParameters(request: FastifyRequest): Parameters {
  const type = request.headers['content-type'] ?? ''
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    throw new OAuthError('invalid_request', { description: 'The request body must be application/x-www-form-urlencoded.' })
  }
  return readParameters(request.body)
}

/** Only IdentityServer's three grants; a missing grant_type is unsupported, as IdentityServer says. */
function checkGrantType(grantType: string | undefined): string {
  if (grantType === undefined || !GRANTS.has(grantType)) {
    throw new OAuthError('unsupported_grant_type', {
      description: grantType === undefined ? 'The grant_type parameter is required.' : `The grant type "${grantType}" is not supported.`,
    })
  }
  return grantType
}

export function parseTokenRequest(parameters: Parameters, authorization: string | undefined): TokenRequest {
  const grantType = checkGrantType(parameters.get('grant_type'))
  const client = readClientCredentials(authorization, parameters)
  const request: TokenRequest = { grantType, policy: IDENTITYSERVER_POLICY, ...(client ? { client } : {}) }
  const copy = { scope: 'scope', audience: 'audience', username: 'username', password: 'password', refresh_token: 'refreshToken' } as const
  for (const [wire, field] of Object.entries(copy)) {
    const value = parameters.get(wire)
    if (value !== undefined) request[field] = value
  }
  return request
}

export function formatTokenResult(result: TokenResult): WireAnswer {
  return {
    status: 200,
    headers: IDENTITYSERVER_HEADERS,
    body: {
      access_token: result.accessToken,
      expires_in: result.expiresIn,
      token_type: result.tokenType,
      ...(result.refreshToken ? { refresh_token: result.refreshToken } : {}),
      scope: result.scope,
    },
  }
}

/** RFC 6750 §3: a refused bearer token gets 401 (403 for too little scope) and `WWW-Authenticate`. */
export function formatUserInfoError(error: 'invalid_request' | 'invalid_token' | 'insufficient_scope', description: string): WireAnswer {
  const status = error === 'insufficient_scope' ? 403 : error === 'invalid_request' ? 400 : 401
  return {
    status,
    headers: { ...IDENTITYSERVER_HEADERS, 'www-authenticate': `Bearer error="${error}", error_description="${description}"` },
    body: { error, error_description: description },
  }
}

export function formatUserInfo(claims: UserInfoClaims): WireAnswer {
  return { status: 200, headers: IDENTITYSERVER_HEADERS, body: claims }
}

/**
 * The bearer token of a UserInfo request: `Authorization: Bearer …` (RFC 6750 §2.1) or, on a
 * form POST, `access_token` (§2.2). Absent: 401 with a bare challenge (§3.1).
 */
export function readBearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (header !== undefined) {
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header)
    return match?.[1] ?? ''
  }
  if (request.method === 'POST' && request.body !== undefined && request.body !== null) {
    return readParameters(request.body).get('access_token')
  }
  return undefined
}

/**
 * Every `/connect/token` error is 400 `{"error","error_description"?}`; a failure inside is 500,
 * an outage 503 and a rate limit 429 (both with Retry-After).
 */
function formatError(error: unknown): WireAnswer {
  const oauthError = toOAuthError(error)
  const status = ['server_error', 'temporarily_unavailable', 'rate_limited'].includes(oauthError.code) ? standardStatus(oauthError) : 400
  return {
    status,
    headers: { ...IDENTITYSERVER_HEADERS, ...retryAfterHeaders(oauthError) },
    body: { error: oauthError.code, ...(oauthError.description ? { error_description: oauthError.description } : {}) },
  }
}

export const identityserver: ErrorShaper = { name: 'identityserver', formatError }

/** UserInfo speaks RFC 6750: any failure before the token is checked is a bad request. */
export const identityserverUserInfo: ErrorShaper = {
  name: 'identityserver-userinfo',
  formatError(error: unknown): WireAnswer {
    const oauthError = toOAuthError(error)
    if (oauthError.code === 'server_error' || oauthError.code === 'temporarily_unavailable' || oauthError.code === 'rate_limited') return formatError(error)
    return formatUserInfoError('invalid_request', oauthError.description ?? 'The request is malformed.')
  },
}
