import type { DpopSigner } from '../dpop-client.js'
import { TokenClientError, type TokenDialectName } from '../token-client-error.js'

/** A token as a dialect hands it to the client, before the client dates it. */
export interface IssuedToken {
  accessToken: string
  /** Seconds; undefined when the dialect's answer does not say (the client then reads a JWT's `exp`). */
  expiresIn: number | undefined
  refreshToken?: string | undefined
  scope?: string | undefined
  /** RFC 9449 §5: `DPoP` when the token is bound to the client's DPoP key. */
  tokenType?: 'Bearer' | 'DPoP'
}

/** What every dialect call needs: the fetch to use and where to send it. */
export interface WireContext {
  fetch: typeof globalThis.fetch
  tokenUrl: string
  refreshUrl: string
  clientAuthentication: ClientAuthentication
  scope: string | undefined
  /** A client assertion's `aud` (private_key_jwt): the issuer when known; default the token URL. */
  audience?: string
  /** The client's clock (ms), for a client assertion's `iat` and `exp`; default Date.now. */
  now?: () => number
  /** RFC 9449: sign a DPoP proof for every token request (standard and identityserver dialects). */
  dpop?: DpopSigner | undefined
}

/**
 * RFC 6749 §2.3.1: HTTP Basic (which servers must support) or the two body parameters.
 *
 * @example
 * ```ts
 * createTokenClient({ issuer, dialect: 'standard', credentials, clientAuthentication: 'client_secret_post' })
 * ```
 */
export type ClientAuthentication = 'client_secret_basic' | 'client_secret_post'

/** One wire dialect: how to authenticate, and how to refresh when it issues refresh tokens. */
export interface TokenDialect<Credentials> {
  readonly name: TokenDialectName
  /** The token path under the issuer, and the refresh path when it differs. */
  readonly paths: { token: string; refresh?: string }
  authenticate(context: WireContext, credentials: Credentials): Promise<IssuedToken>
  refresh?(context: WireContext, credentials: Credentials, refreshToken: string): Promise<IssuedToken>
}

export interface WireAnswer {
  status: number
  body: unknown
  headers?: Headers
}

/** Sends one request; a network failure or a body that is not JSON is a TokenClientError. */
export async function exchange(dialect: TokenDialectName, context: WireContext, url: string, init: RequestInit): Promise<WireAnswer> {
  let response: Response
  let text: string
  try {
    response = await context.fetch(url, { ...init, method: 'POST', redirect: 'error' })
    text = await response.text()
  } catch (cause) {
    throw new TokenClientError({ code: 'request_failed', dialect, description: `the token endpoint could not be reached`, cause })
  }
  try {
    return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown), headers: response.headers }
  } catch {
    throw new TokenClientError({ code: 'invalid_response', status: response.status, dialect, description: 'the answer is not JSON' })
  }
}

export function invalidResponse(dialect: TokenDialectName, status: number, description: string): TokenClientError {
  return new TokenClientError({ code: 'invalid_response', status, dialect, description })
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

export function optionalSeconds(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined
}

/** RFC 6749 §5.2 error body `{"error","error_description"}`; anything else is invalid_response. */
export function oauthError(dialect: TokenDialectName, answer: WireAnswer): TokenClientError {
  const body = answer.body
  if (isRecord(body) && typeof body.error === 'string') {
    return new TokenClientError({ code: body.error, status: answer.status, dialect, description: optionalString(body.error_description) })
  }
  return invalidResponse(dialect, answer.status, `HTTP ${answer.status} without an error body`)
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64-encoded. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+')
  // The encoded form is ASCII, so btoa (platform, not Node-only) is safe here.
  return 'Basic ' + btoa(`${encode(clientId)}:${encode(clientSecret)}`)
}
