/**
 * Error codes of the authorization endpoint: RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6,
 * and RFC 9126 §4 (`invalid_request_uri`, `request_not_supported`).
 */
export type AuthorizeErrorCode =
  | 'invalid_request'
  | 'unauthorized_client'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'invalid_scope'
  /** RFC 8707 §2: a resource the client may not ask for, or no absolute URI. */
  | 'invalid_target'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'login_required'
  | 'consent_required'
  | 'interaction_required'
  | 'invalid_request_uri'
  | 'request_not_supported'

/**
 * An authorization request that cannot even be answered at its redirect URI: the client is
 * unknown or the redirect URI is not one it registered (RFC 6749 §4.1.2.1: "MUST NOT
 * automatically redirect"). Shown to the person on an error page.
 */
export class AuthorizationPageError extends Error {
  readonly code: AuthorizeErrorCode | 'invalid_client'
  readonly description: string

  constructor(code: AuthorizeErrorCode | 'invalid_client', description: string) {
    super(`${code}: ${description}`)
    this.name = 'AuthorizationPageError'
    this.code = code
    this.description = description
  }
}

/** An error for a known client and a registered redirect URI: it goes back there as `error`, `state`, `iss`. */
export class AuthorizationRedirectError extends Error {
  readonly code: AuthorizeErrorCode
  readonly description: string
  readonly redirectUri: string
  readonly state: string | undefined

  constructor(code: AuthorizeErrorCode, description: string, target: { redirectUri: string; state: string | undefined }) {
    super(`${code}: ${description}`)
    this.name = 'AuthorizationRedirectError'
    this.code = code
    this.description = description
    this.redirectUri = target.redirectUri
    this.state = target.state
  }
}
