import { OAuthError } from '../core/errors.js'
import { isStoreUnavailable } from '../store/availability.js'

/**
 * Turns anything a route may throw into an OAuthError: Fastify's own 4xx errors (bad JSON,
 * body too large, bad content type) become `invalid_request`; an unreachable database
 * becomes `temporarily_unavailable`; everything else is a `server_error` whose details are
 * logged, never sent.
 */
export function toOAuthError(error: unknown): OAuthError {
  if (error instanceof OAuthError) return error
  if (isStoreUnavailable(error)) {
    return new OAuthError('temporarily_unavailable', { description: 'The service is temporarily unavailable; retry shortly.', cause: error })
  }
  const status = (error as { statusCode?: unknown } | null)?.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new OAuthError('invalid_request', { description: 'The request could not be read.', debug: (error as Error).message })
  }
  return new OAuthError('server_error', { description: 'An unexpected error occurred.', cause: error })
}

/** RFC 6749 §5.2 status codes (and 503 for an outage, with Retry-After). */
export function standardStatus(error: OAuthError): number {
  switch (error.code) {
    case 'invalid_client':
      return 401
    case 'server_error':
      return 500
    case 'temporarily_unavailable':
      return 503
    case 'rate_limited':
      return 429
    case 'invalid_target':
      // RFC 8707 §2: as the other token-request errors of RFC 6749 §5.2.
      return 400
    case 'authorization_pending':
    case 'slow_down':
    case 'access_denied':
    case 'expired_token':
      // RFC 8628 §3.5: errors of the token endpoint's §5.2 response, so 400 like the others.
      return 400
    case 'invalid_dpop_proof':
    case 'use_dpop_nonce':
      // RFC 9449 §5, §8: 400 at the token endpoint (a resource answers 401, RFC 9449 §7.1).
      return 400
    default:
      return 400
  }
}

/** Seconds a client should wait after a 503. */
export const RETRY_AFTER_SECONDS = '5'

/**
 * RFC 9110 §10.2.3 `Retry-After` for a 503 (outage) or a 429 (RFC 6585 §4, rate limited), and
 * RFC 9449 §8 `DPoP-Nonce` for `use_dpop_nonce`; none otherwise. Every dialect sends these.
 */
export function retryAfterHeaders(error: OAuthError): Record<string, string> {
  if (error.dpopNonce !== undefined) return { 'dpop-nonce': error.dpopNonce }
  if (error.code === 'temporarily_unavailable') return { 'retry-after': RETRY_AFTER_SECONDS }
  if (error.code === 'rate_limited') return { 'retry-after': String(Math.max(1, Math.ceil(error.retryAfter ?? 1))) }
  return {}
}

/**
 * RFC 6749 §5.2: `error_description` is %x20-21 / %x23-5B / %x5D-7E, so it may travel in a
 * quoted `WWW-Authenticate` parameter (RFC 6750 §3) as well as in JSON. Descriptions echo what
 * the caller sent (a scope, a grant type), so every dialect passes them through here: `"` becomes
 * `'`, `\` becomes `/`, accented letters lose their accent, anything else outside the set is `?`.
 */
export function wireDescription(description: string): string {
  return description
    .replace(/"/g, "'")
    .replace(/\\/g, '/')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '?')
}
