import type { FastifyRequest } from 'fastify'
import { OAuthError } from '../../core/errors.js'
import { looksLikeRefreshToken } from '../../core/tokens/refresh-token-format.js'
import type { TokenRequest, TokenResult } from '../../core/types.js'
import { retryAfterHeaders, standardStatus, toOAuthError, wireDescription } from '../error-mapping.js'
import { NO_STORE_HEADERS, type ErrorShaper, type WireAnswer } from './dialect.js'

/**
 * Contract 2 (seed 000): Canary-style API keys. The key travels in `Csc-Api-Key`, refresh
 * tokens in `X-Refresh-Token` / `Csc-Refresh-Token`; bodies are optional JSON.
 */

export const API_KEY_HEADER = 'Csc-Api-Key'
export const REFRESH_HEADERS = ['X-Refresh-Token', 'Csc-Refresh-Token'] as const

/** A user login with the key's authority (`/v3/auth/tokens/get` user mode). */
export interface CanaryLogin {
  userPool?: string
  projectId?: string
  username?: string
  password?: string
}

/** One header value; a header sent twice, or two spellings that disagree, is malformed. */
function readHeader(request: FastifyRequest, names: readonly string[]): string | undefined {
  let found: string | undefined
  for (const name of names) {
    const value = request.headers[name.toLowerCase()]
    if (value === undefined || value === '') continue
    if (typeof value !== 'string' || (found !== undefined && found !== value)) {
      throw new OAuthError('invalid_request', { description: `Send the ${names.join(' or ')} header once.` })
    }
    found = value
  }
  return found
}

export function readApiKey(request: FastifyRequest): string {
  const key = readHeader(request, [API_KEY_HEADER])
  if (key === undefined) throw new OAuthError('invalid_request', { description: 'The Csc-Api-Key header is required.' })
  return key
}

export function readRefreshToken(request: FastifyRequest): string {
  const token = readHeader(request, REFRESH_HEADERS)
  if (token === undefined) throw new OAuthError('invalid_request', { description: 'The X-Refresh-Token (or Csc-Refresh-Token) header is required.' })
  if (!looksLikeRefreshToken(token.trim())) throw new OAuthError('invalid_request', { description: 'The refresh token is malformed.' })
  return token.trim()
}

/**
 * The body of `/v3/auth/tokens/get`: empty, `null` or `{}` for key mode; an object with
 * `username` and `password` (and optional `userPool`, `projectId`) for user mode. The
 * routes read the body as text whatever its content type, so an empty one is fine.
 */
export function parseLogin(body: unknown): CanaryLogin {
  const text = typeof body === 'string' ? body.trim() : ''
  if (text === '' || text === 'null') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new OAuthError('invalid_request', { description: 'The request body must be JSON.' })
  }
  if (value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw new OAuthError('invalid_request', { description: 'The request body must be a JSON object.' })
  const login: CanaryLogin = {}
  for (const field of ['userPool', 'projectId', 'username', 'password'] as const) {
    const fieldValue = (value as Record<string, unknown>)[field]
    if (fieldValue === undefined || fieldValue === null) continue
    if (typeof fieldValue !== 'string') throw new OAuthError('invalid_request', { description: `${field} must be a string.` })
    login[field] = fieldValue
  }
  return login
}

export function keyRequest(apiKey: string, login: CanaryLogin = {}): TokenRequest {
  return {
    grantType: 'api_key',
    apiKey,
    ...(login.username !== undefined ? { username: login.username } : {}),
    ...(login.password !== undefined ? { password: login.password } : {}),
  }
}

export function refreshRequest(refreshToken: string): TokenRequest {
  return { grantType: 'api_key', apiKeyRefreshToken: refreshToken }
}

/** `/v2/oauth/request-tokens` and `/v2/oauth/refresh-tokens`: `expiresIn` is whole seconds. */
export function formatV2Tokens(result: TokenResult): WireAnswer {
  return {
    status: 200,
    headers: NO_STORE_HEADERS,
    body: { accessToken: result.accessToken, refreshToken: result.refreshToken, expiresIn: result.expiresIn },
  }
}

/**
 * `/v3/auth/tokens/get`: `projectId` echoes the login's, or else names the key (KEYID) the
 * tokens were issued through; `subjectId` is the token's `sub` (the user, or the client).
 */
export function formatV3Tokens(result: TokenResult, projectId: string): WireAnswer {
  return {
    status: 200,
    headers: NO_STORE_HEADERS,
    body: {
      accessToken: result.accessToken,
      refreshToken: result.refreshToken,
      identityIds: { clientId: result.clientId, projectId, subjectId: result.subject },
    },
  }
}

export function formatV3Refresh(result: TokenResult): WireAnswer {
  return { status: 200, headers: NO_STORE_HEADERS, body: { accessToken: result.accessToken, refreshToken: result.refreshToken } }
}

/**
 * The vendor documents no error body, so Gatehouse answers RFC 6749 §5.2's: 400 for a
 * missing or malformed header or body, 401 when the key, refresh token or login is refused.
 */
function canaryStatus(error: OAuthError): number {
  return error.code === 'invalid_grant' || error.code === 'unauthorized_client' ? 401 : standardStatus(error)
}

export const canary: ErrorShaper = {
  name: 'canary',
  formatError(error: unknown): WireAnswer {
    const oauthError = toOAuthError(error)
    const headers: Record<string, string> = { ...NO_STORE_HEADERS, ...retryAfterHeaders(oauthError) }
    return {
      status: canaryStatus(oauthError),
      headers,
      body: { error: oauthError.code, error_description: wireDescription(oauthError.description ?? oauthError.code) },
    }
  },
}
