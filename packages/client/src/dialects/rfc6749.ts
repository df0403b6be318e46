import {
  basicAuthorization,
  exchange,
  invalidResponse,
  isRecord,
  oauthError,
  optionalSeconds,
  optionalString,
  type IssuedToken,
  type TokenDialect,
  type WireAnswer,
  type WireContext,
} from './dialect.js'
import type { TokenDialectName } from '../token-client-error.js'
import { JWT_BEARER_ASSERTION_TYPE, signClientAssertion, type PrivateKeyJwtCredentials } from '../client-assertion.js'

/**
 * A confidential client (RFC 6749 §4.4, client_credentials).
 *
 * @example
 * ```ts
 * const credentials: ClientSecretCredentials = { clientId: process.env.CLIENT_ID!, clientSecret: process.env.CLIENT_SECRET! }
 * ```
 */
export interface ClientSecretCredentials {
  clientId: string
  clientSecret: string
}

/**
 * A confidential client acting for a user (RFC 6749 §4.3, password).
 *
 * @example
 * ```ts
 * const credentials: PasswordCredentials = { clientId, clientSecret, username: 'ada@example.com', password }
 * ```
 */
export interface PasswordCredentials extends ClientSecretCredentials {
  username: string
  password: string
}

/**
 * Credentials of the standard and IdentityServer dialects: with a username, the password grant.
 *
 * @example
 * ```ts
 * const credentials: OAuthCredentials = user ? { clientId, clientSecret, ...user } : { clientId, clientSecret }
 * ```
 */
export type OAuthCredentials = ClientSecretCredentials | PasswordCredentials | PrivateKeyJwtCredentials

/** RFC 6749 §5.1: `access_token` and `token_type` are required: Bearer, or DPoP (RFC 9449 §5) when a proof was sent. */
function readTokenResponse(dialect: TokenDialectName, answer: WireAnswer, dpop: boolean): IssuedToken {
  const body = answer.body
  if (answer.status !== 200) throw oauthError(dialect, answer)
  if (!isRecord(body) || typeof body.access_token !== 'string' || body.access_token === '') {
    throw invalidResponse(dialect, answer.status, 'no access_token in the answer')
  }
  const tokenType = typeof body.token_type === 'string' ? body.token_type.toLowerCase() : undefined
  if (tokenType !== 'bearer' && !(dpop && tokenType === 'dpop')) {
    throw invalidResponse(dialect, answer.status, dpop ? 'token_type is neither Bearer nor DPoP' : 'token_type is not Bearer')
  }
  return {
    tokenType: tokenType === 'dpop' ? 'DPoP' : 'Bearer',
    accessToken: body.access_token,
    expiresIn: optionalSeconds(body.expires_in),
    refreshToken: optionalString(body.refresh_token),
    scope: optionalString(body.scope),
  }
}

async function postForm(
  dialect: TokenDialectName,
  context: WireContext,
  credentials: ClientSecretCredentials | PrivateKeyJwtCredentials,
  parameters: Record<string, string>,
): Promise<IssuedToken> {
  const form = new URLSearchParams(parameters)
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
  if ('privateKey' in credentials) {
    // RFC 7523 §2.2: a fresh assertion for every request (the server accepts each jti once).
    form.set('client_assertion_type', JWT_BEARER_ASSERTION_TYPE)
    form.set('client_assertion', await signClientAssertion(credentials, context.audience ?? context.tokenUrl, context.now?.() ?? Date.now()))
  } else if (context.clientAuthentication === 'client_secret_basic') {
    headers.authorization = basicAuthorization(credentials.clientId, credentials.clientSecret)
  } else {
    form.set('client_id', credentials.clientId)
    form.set('client_secret', credentials.clientSecret)
  }
  const body = form.toString()
  const dpop = context.dpop
  if (dpop === undefined) return readTokenResponse(dialect, await exchange(dialect, context, context.tokenUrl, { headers, body }), false)
  const send = async (): Promise<WireAnswer> => {
    const answer = await exchange(dialect, context, context.tokenUrl, { headers: { ...headers, dpop: await dpop.proof('POST', context.tokenUrl) }, body })
    return { ...answer, fresh: dpop.rememberNonce(context.tokenUrl, answer.headers) } as WireAnswer & { fresh: boolean }
  }
  let answer = (await send()) as WireAnswer & { fresh: boolean }
  // RFC 9449 §8: the server wants a nonce in the proof; it sent one in DPoP-Nonce. One more try.
  if (answer.status === 400 && isRecord(answer.body) && answer.body.error === 'use_dpop_nonce' && answer.fresh) answer = (await send()) as WireAnswer & { fresh: boolean }
  return readTokenResponse(dialect, answer, true)
}

function withScope(parameters: Record<string, string>, scope: string | undefined): Record<string, string> {
  return scope === undefined ? parameters : { ...parameters, scope }
}

/** The RFC 6749 token endpoint, parameterised by name so IdentityServer's can reuse it. */
export function rfc6749Dialect(name: TokenDialectName, tokenPath: string): TokenDialect<OAuthCredentials> {
  return {
    name,
    paths: { token: tokenPath },
    authenticate(context, credentials) {
      const parameters: Record<string, string> =
        'username' in credentials
          ? { grant_type: 'password', username: credentials.username, password: credentials.password }
          : { grant_type: 'client_credentials' }
      return postForm(name, context, credentials, withScope(parameters, context.scope))
    },
    // RFC 6749 §6: the scope is left out, so the refreshed token keeps the original grant's.
    refresh(context, credentials, refreshToken) {
      return postForm(name, context, credentials, { grant_type: 'refresh_token', refresh_token: refreshToken })
    },
  }
}

/** Wire contract 1: `POST /oauth/token`. */
export const standard = rfc6749Dialect('standard', '/oauth/token')
