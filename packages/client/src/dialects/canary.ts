import {
  exchange,
  invalidResponse,
  isRecord,
  oauthError,
  optionalSeconds,
  optionalString,
  type IssuedToken,
  type TokenDialect,
  type WireAnswer,
} from './dialect.js'

/**
 * A Canary-style API key, `KEYID:SECRET` (wire contract 2).
 *
 * @example
 * ```ts
 * const credentials: ApiKeyCredentials = { apiKey: process.env.CSC_API_KEY! }
 * ```
 */
export interface ApiKeyCredentials {
  apiKey: string
}

/** `{"accessToken","refreshToken","expiresIn"}`; errors are RFC 6749 bodies (400 / 401). */
function readTokens(answer: WireAnswer): IssuedToken {
  const body = answer.body
  if (answer.status !== 200) throw oauthError('canary', answer)
  if (!isRecord(body) || typeof body.accessToken !== 'string' || body.accessToken === '') {
    throw invalidResponse('canary', answer.status, 'no accessToken in the answer')
  }
  return {
    accessToken: body.accessToken,
    expiresIn: optionalSeconds(body.expiresIn),
    refreshToken: optionalString(body.refreshToken),
  }
}

/**
 * Wire contract 2 (seed 000): `POST /v2/oauth/request-tokens` with the `Csc-Api-Key` header,
 * `POST /v2/oauth/refresh-tokens` with `X-Refresh-Token`. The scope is the key's; none is sent.
 */
export const canary: TokenDialect<ApiKeyCredentials> = {
  name: 'canary',
  paths: { token: '/v2/oauth/request-tokens', refresh: '/v2/oauth/refresh-tokens' },
  async authenticate(context, credentials) {
    const headers = { 'csc-api-key': credentials.apiKey, 'content-type': 'application/json', accept: 'application/json' }
    return readTokens(await exchange('canary', context, context.tokenUrl, { headers, body: '{}' }))
  },
  async refresh(context, _credentials, refreshToken) {
    const headers = { 'x-refresh-token': refreshToken, 'content-type': 'application/json', accept: 'application/json' }
    return readTokens(await exchange('canary', context, context.refreshUrl, { headers, body: '{}' }))
  },
}
