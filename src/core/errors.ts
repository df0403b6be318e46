/**
 * The one error type that crosses the engine boundary. The code set is closed:
 * RFC 6749 §5.2 codes, RFC 8707 §2's `invalid_target`, RFC 8628 §3.5's four device-grant codes,
 * plus RFC 6749 §4.1.2.1's `temporarily_unavailable` and `server_error`, which dialects also
 * need to express outages.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  /** RFC 8707 §2: the requested audience (resource) is not one this client or user may have. */
  | 'unsupported_token_type'
  /** RFC 8707 §2: the requested audience (resource) is unknown or not allowed for the client. */
  | 'invalid_target'
  /** RFC 8628 §3.5: the person has not approved or denied the device yet; poll again after the interval. */
  | 'authorization_pending'
  /** RFC 8628 §3.5: polled sooner than the interval; the interval is now 5 s longer. */
  | 'slow_down'
  /** RFC 8628 §3.5: the person denied the device. */
  | 'access_denied'
  /** RFC 8628 §3.5: the device_code expired before it was approved and redeemed. */
  | 'expired_token'
  /** RFC 9449 §5 / §7.1: the DPoP proof is missing (where required), malformed or invalid. */
  | 'invalid_dpop_proof'
  /** RFC 9449 §8: the proof must carry the server nonce sent in the `DPoP-Nonce` header. */
  | 'use_dpop_nonce'
  | 'temporarily_unavailable'
  | 'server_error'
  /** Too many requests (RFC 6585 §4): a rate limit or a throttled run of failed attempts; carries `retryAfter`. */
  | 'rate_limited'

export interface OAuthErrorOptions {
  /** Sent to the caller as `error_description`; never contains a secret. */
  description?: string
  /** Logged, never sent. */
  debug?: string
  cause?: unknown
  /** Whole seconds the caller should wait (`Retry-After`, RFC 9110 §10.2.3); for `rate_limited`. */
  retryAfter?: number
  /** RFC 9449 §8: a fresh server nonce, sent as the `DPoP-Nonce` header; for `use_dpop_nonce`. */
  dpopNonce?: string
}

export class OAuthError extends Error {
  readonly code: OAuthErrorCode
  readonly description: string | undefined
  readonly debug: string | undefined
  readonly retryAfter: number | undefined
  readonly dpopNonce: string | undefined

  constructor(code: OAuthErrorCode, options: OAuthErrorOptions = {}) {
    super(options.description ? `${code}: ${options.description}` : code, { cause: options.cause })
    this.name = 'OAuthError'
    this.code = code
    this.description = options.description
    this.debug = options.debug
    this.retryAfter = options.retryAfter
    this.dpopNonce = options.dpopNonce
  }
}
