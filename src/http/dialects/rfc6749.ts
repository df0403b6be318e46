import type { FastifyRequest } from 'fastify'
import type { OAuthError } from '../../core/errors.js'
import { RFC6749_POLICY, type TokenRequest, type TokenResult } from '../../core/types.js'
import { readClientCredentials, usedBasic } from '../client-auth.js'
import { retryAfterHeaders, standardStatus, toOAuthError, wireDescription } from '../error-mapping.js'
import { readParameters, type Parameters } from '../parameters.js'
import { NO_STORE_HEADERS, type ErrorShaper, type WireAnswer } from './dialect.js'

/** The realm named in `WWW-Authenticate` on Basic failures (RFC 6749 §5.2, RFC 7617). */
export const REALM = 'gatehouse'

/** Contract 1: the standard token endpoint. Parses form or JSON into a TokenRequest (RFC 6749's grants only). */
export function parseTokenRequest(parameters: Parameters, authorization: string | undefined): TokenRequest {
  const request: TokenRequest = { grantType: parameters.get('grant_type') ?? '', policy: RFC6749_POLICY, parameters }
  const client = readClientCredentials(authorization, parameters)
  if (client) request.client = client
  // Assigned one by one, not spread from optional pieces: this runs on every token request.
  for (const [wire, field] of OPTIONAL_FIELDS) {
    const value = parameters.get(wire)
    if (value !== undefined) request[field] = value
  }
  return request
}

const OPTIONAL_FIELDS = [
  ['scope', 'scope'],
  ['audience', 'audience'],
  ['username', 'username'],
  ['password', 'password'],
  ['refresh_token', 'refreshToken'],
] as const satisfies readonly (readonly [string, keyof TokenRequest])[]

export function readRequestParameters(request: FastifyRequest): Map<string, string> {
  return readParameters(request.method === 'GET' ? request.query : request.body)
}

/** RFC 6749 §5.1 successful response. */
export function formatTokenResult(result: TokenResult): WireAnswer {
  return {
    status: 200,
    headers: NO_STORE_HEADERS,
    body: {
      access_token: result.accessToken,
      token_type: result.tokenType,
      expires_in: result.expiresIn,
      ...(result.refreshToken ? { refresh_token: result.refreshToken } : {}),
      // RFC 6749 §5.1/§3.3: scope is one or more tokens; no scope at all is no member, not "".
      ...(result.scope !== '' ? { scope: result.scope } : {}),
      ...(result.idToken !== undefined ? { id_token: result.idToken } : {}),
      ...(result.issuedTokenType !== undefined ? { issued_token_type: result.issuedTokenType } : {}),
    },
  }
}

/** RFC 6749 §5.2 error response, with RFC 6750-style `WWW-Authenticate` for Basic failures. */
export function formatOAuthError(error: OAuthError, basic: boolean): WireAnswer {
  const status = standardStatus(error)
  const headers: Record<string, string> = { ...NO_STORE_HEADERS, ...retryAfterHeaders(error) }
  if (error.code === 'invalid_client' && basic) headers['www-authenticate'] = `Basic realm="${REALM}", charset="UTF-8"`
  return {
    status,
    headers,
    body: { error: error.code, ...(error.description ? { error_description: wireDescription(error.description) } : {}) },
  }
}

export const rfc6749: ErrorShaper = {
  name: 'rfc6749',
  formatError(error: unknown, request: FastifyRequest): WireAnswer {
    return formatOAuthError(toOAuthError(error), usedBasic(request.headers.authorization))
  },
}
