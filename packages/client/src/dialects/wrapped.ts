import { TokenClientError } from '../token-client-error.js'
import { exchange, invalidResponse, isRecord, optionalSeconds, optionalString, type TokenDialect, type WireAnswer } from './dialect.js'
import type { ClientSecretCredentials } from './rfc6749.js'

/** `{"error":{"code","code_reason","message"}}`: `code_reason` is the RFC-like code, `code` the vendor's number. */
function wrappedError(answer: WireAnswer): TokenClientError {
  const error = isRecord(answer.body) ? answer.body.error : undefined
  if (isRecord(error) && typeof error.code_reason === 'string') {
    return new TokenClientError({
      code: error.code_reason,
      status: answer.status,
      dialect: 'wrapped',
      description: optionalString(error.message),
      // Gatehouse sends it as a string ("401021"); accept a number too.
      vendorCode: typeof error.code === 'number' || typeof error.code === 'string' ? String(error.code) : undefined,
    })
  }
  return invalidResponse('wrapped', answer.status, `HTTP ${answer.status} without an error body`)
}

/**
 * Wire contract 4 (seed 003): `POST /v1/auth/token` with `client_id` and `client_secret` in a
 * form → `{"data":{"access_token","token_type","expires_in"}}`. Client credentials only, so
 * there is no refresh token: the client re-authenticates. The contract has no scope parameter,
 * so none is sent.
 */
export const wrapped: TokenDialect<ClientSecretCredentials> = {
  name: 'wrapped',
  paths: { token: '/v1/auth/token' },
  async authenticate(context, credentials) {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: credentials.clientId, client_secret: credentials.clientSecret })
    const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
    const answer = await exchange('wrapped', context, context.tokenUrl, { headers, body: form.toString() })
    if (answer.status !== 200) throw wrappedError(answer)
    const data = isRecord(answer.body) ? answer.body.data : undefined
    if (!isRecord(data) || typeof data.access_token !== 'string' || data.access_token === '') {
      throw invalidResponse('wrapped', answer.status, 'no data.access_token in the answer')
    }
    return { accessToken: data.access_token, expiresIn: optionalSeconds(data.expires_in) }
  },
}
