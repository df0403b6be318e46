import type { FastifyRequest } from 'fastify'
import { OAuthError } from '../../core/errors.js'
import { DEVICE_CODE_GRANT, type DialectPolicy, type TokenRequest, type TokenResult } from '../../core/types.js'
import type { UserInfoClaims } from '../../core/userinfo.js'
import { readClientCredentials } from '../client-auth.js'
import { retryAfterHeaders, standardStatus, toOAuthError, wireDescription } from '../error-mapping.js'
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
  grantTypes: ['password', 'client_credentials', 'refresh_token', 'authorization_code', DEVICE_CODE_GRANT],
}

/** IdentityServer's own cache headers on token answers, successes and errors alike. */
export const IDENTITYSERVER_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store, no-cache, max-age=0',
  pragma: 'no-cache',
}

const GRANTS: ReadonlySet<string> = new Set(IDENTITYSERVER_POLICY.grantTypes)

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
      description: grantType === undefined ? 'The grant_type parameter is required.' : `The grant type '${grantType}' is not supported.`,
    })
  }
  return grantType
}

export function parseTokenRequest(parameters: Parameters, authorization: string | undefined): TokenRequest {
  const grantType = checkGrantType(parameters.get('grant_type'))
  const client = readClientCredentials(authorization, parameters)
  const request: TokenRequest = { grantType, policy: IDENTITYSERVER_POLICY, parameters, ...(client ? { client } : {}) }
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
      // Duende answers the ID token first.
      ...(result.idToken !== undefined ? { id_token: result.idToken } : {}),
      access_token: result.accessToken,
      expires_in: result.expiresIn,
      token_type: result.tokenType,
      ...(result.refreshToken ? { refresh_token: result.refreshToken } : {}),
      // RFC 6749 §5.1/§3.3: scope is one or more tokens; no scope at all is no member, not "".
      ...(result.scope !== '' ? { scope: result.scope } : {}),
    },
  }
}

/** RFC 6750 §3: a refused bearer token gets 401 (403 for too little scope) and `WWW-Authenticate`. */
export function formatUserInfoError(error: 'invalid_request' | 'invalid_token' | 'insufficient_scope', text: string): WireAnswer {
  const description = wireDescription(text)
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

/** RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

const MALFORMED_BEARER = 'The Authorization header must be Bearer followed by one token.'

/** Whether the body also names an access token; a body that cannot be read names none. */
function hasBodyToken(read: () => string | undefined): boolean {
  try {
    return read() !== undefined
  } catch {
    return false
  }
}

/**
 * The bearer token of a UserInfo request: `Authorization: Bearer …` (RFC 6750 §2.1) or, on a
 * form POST, `access_token` (§2.2). Absent, or another scheme: undefined (401 with a bare
 * challenge, §3.1). A Bearer header that is empty or not one b64token, or a token sent both
 * ways, is a malformed request: `invalid_request`, 400 (§3.1), as the SDK's verifier answers.
 */
export function readBearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization?.trim() ?? ''
  const space = header.indexOf(' ')
  const scheme = space === -1 ? header : header.slice(0, space)
  const fromBody = (): string | undefined =>
    request.method === 'POST' && request.body !== undefined && request.body !== null ? readParameters(request.body).get('access_token') : undefined
  // RFC 7235 §2.1: the scheme is case-insensitive.
  if (scheme.toLowerCase() !== 'bearer') return fromBody()
  const token = space === -1 ? '' : header.slice(space + 1).trim()
  if (!B64TOKEN.test(token)) throw new OAuthError('invalid_request', { description: MALFORMED_BEARER })
  if (hasBodyToken(fromBody)) throw new OAuthError('invalid_request', { description: 'Send the access token once: in the Authorization header or the body, not both.' })
  return token
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
    body: { error: oauthError.code, ...(oauthError.description ? { error_description: wireDescription(oauthError.description) } : {}) },
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
