import type { FastifyRequest } from 'fastify'
import { OAuthError } from '../../core/errors.js'
import { STANDARD_POLICY, type DialectPolicy, type TokenRequest, type TokenResult } from '../../core/types.js'
import { readClientCredentials } from '../client-auth.js'
import { retryAfterHeaders, toOAuthError } from '../error-mapping.js'
import type { Parameters } from '../parameters.js'
import { NO_STORE_HEADERS, type ErrorShaper, type WireAnswer } from './dialect.js'

/**
 * Contract 4 (seed 003): client credentials at `/v1/auth/token`, the answer wrapped in
 * `data`, errors as `{"error":{"code","code_reason","message"}}` with the seed's code table.
 */

export type WrappedErrorKind = 'invalid_request' | 'invalid_client' | 'forbidden' | 'not_found' | 'rate_limited' | 'api_error' | 'unavailable'

/** The seed's table, verbatim: status, code (a string, as in the seed's samples), reason, message. */
export const WRAPPED_ERRORS: Readonly<Record<WrappedErrorKind, { status: number; code: string; reason: string; message: string }>> = {
  invalid_request: { status: 400, code: '400013', reason: 'invalid_request', message: 'Missing or invalid parameters' },
  invalid_client: { status: 401, code: '401021', reason: 'invalid_client', message: 'Invalid client_id, client_secret, or session_key' },
  forbidden: { status: 403, code: '403001', reason: 'forbidden', message: 'Access forbidden for this resource' },
  not_found: { status: 404, code: '404001', reason: 'not_found', message: 'Resource or endpoint not found' },
  rate_limited: { status: 429, code: '429001', reason: 'rate_limited', message: 'Too many requests' },
  api_error: { status: 500, code: '500999', reason: 'API_ERROR', message: 'Api Error, please contact customer service' },
  // Not in the seed's table: an outage gets 503 + Retry-After (issue 7) in the same shape, so a
  // client can tell "retry shortly" from a real failure; the code follows the table's pattern.
  unavailable: { status: 503, code: '503001', reason: 'temporarily_unavailable', message: 'Service temporarily unavailable, retry shortly' },
}

export function formatWrappedError(kind: WrappedErrorKind, extraHeaders: Record<string, string> = {}): WireAnswer {
  const row = WRAPPED_ERRORS[kind]
  return {
    status: row.status,
    headers: { ...NO_STORE_HEADERS, ...extraHeaders },
    body: { error: { code: row.code, code_reason: row.reason, message: row.message } },
  }
}

/** The seed's endpoint serves client credentials only. */
const WRAPPED_POLICY: DialectPolicy = { ...STANDARD_POLICY, grantTypes: ['client_credentials'] }

/** `grant_type` may be left out; if present it must be client_credentials (RFC 6749 §4.4.2). */
export function parseTokenRequest(parameters: Parameters, authorization: string | undefined): TokenRequest {
  const grantType = parameters.get('grant_type') ?? 'client_credentials'
  if (grantType !== 'client_credentials') {
    throw new OAuthError('invalid_request', { description: 'grant_type must be client_credentials.' })
  }
  const client = readClientCredentials(authorization, parameters)
  // A secret (Basic or in the body) or a client assertion (private_key_jwt); a client_id alone is not enough.
  if (!client || client.method === 'none') {
    throw new OAuthError('invalid_request', { description: 'client_id and client_secret (or client_assertion) are required.' })
  }
  const scope = parameters.get('scope')
  return { grantType, client, policy: WRAPPED_POLICY, ...(scope !== undefined ? { scope } : {}) }
}

export function formatTokenResult(result: TokenResult): WireAnswer {
  return {
    status: 200,
    headers: NO_STORE_HEADERS,
    body: { data: { access_token: result.accessToken, token_type: result.tokenType, expires_in: result.expiresIn } },
  }
}

/** A rate limiter's rejection (Fastify errors carry a statusCode). */
function isRateLimited(error: unknown): boolean {
  return (error as { statusCode?: unknown } | null)?.statusCode === 429
}

function kindOf(error: unknown): WrappedErrorKind {
  if (isRateLimited(error)) return 'rate_limited'
  switch (toOAuthError(error).code) {
    case 'rate_limited':
      return 'rate_limited'
    case 'invalid_client':
      return 'invalid_client'
    case 'unauthorized_client':
      return 'forbidden'
    case 'server_error':
      return 'api_error'
    case 'temporarily_unavailable':
      return 'unavailable'
    default:
      return 'invalid_request'
  }
}

export const wrapped: ErrorShaper = {
  name: 'wrapped',
  formatError(error: unknown): WireAnswer {
    return formatWrappedError(kindOf(error), retryAfterHeaders(toOAuthError(error)))
  },
  formatNotFound(_request: FastifyRequest): WireAnswer {
    return formatWrappedError('not_found')
  },
}
