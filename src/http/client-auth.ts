import type { FastifyRequest } from 'fastify'
import { assertedClientId } from '../core/credentials/client-assertion.js'
import { OAuthError } from '../core/errors.js'
import { JWT_BEARER_ASSERTION_TYPE, type ClientCredentials, type RequestOrigin } from '../core/types.js'
import type { Parameters } from './parameters.js'

/** RFC 6749 §2.3.1 / Appendix B: id and secret are form-urlencoded before base64. */
function formDecode(value: string): string {
  // Generated ids and secrets never need decoding: skip the two passes on the hot path.
  if (!value.includes('%') && !value.includes('+')) return value
  return decodeURIComponent(value.replace(/\+/g, ' '))
}

function parseBasic(header: string): ClientCredentials {
  const match = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i.exec(header)
  const decoded = match ? Buffer.from(match[1] as string, 'base64').toString('utf8') : ''
  const colon = decoded.indexOf(':')
  if (colon <= 0) {
    throw new OAuthError('invalid_client', { description: 'The Authorization header is not valid Basic credentials.' })
  }
  try {
    return {
      method: 'client_secret_basic',
      clientId: formDecode(decoded.slice(0, colon)),
      clientSecret: formDecode(decoded.slice(colon + 1)),
    }
  } catch {
    throw new OAuthError('invalid_client', { description: 'The client credentials are not correctly form-urlencoded.' })
  }
}

const ONE_METHOD = 'Use one client authentication method: Basic, client_secret or client_assertion, not two.'

/**
 * RFC 7521 §4.2 / RFC 7523 §2.2: `client_assertion_type` (the JWT bearer type) and
 * `client_assertion` in the body. The client is the body's `client_id` when there is one (the
 * assertion must then be about it), else whom the assertion claims to be; the assertion itself
 * is checked by the core. A missing or other assertion type is a malformed request.
 */
function readAssertion(parameters: Parameters, bodyId: string | undefined): ClientCredentials | undefined {
  const type = parameters.get('client_assertion_type')
  const assertion = parameters.get('client_assertion')
  if (type === undefined && assertion === undefined) return undefined
  if (assertion === undefined) throw new OAuthError('invalid_request', { description: 'client_assertion_type was sent without client_assertion.' })
  if (type === undefined) throw new OAuthError('invalid_request', { description: 'client_assertion was sent without client_assertion_type.' })
  if (type !== JWT_BEARER_ASSERTION_TYPE) throw new OAuthError('invalid_request', { description: `client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE}.` })
  return { method: 'private_key_jwt', clientId: bodyId ?? assertedClientId(assertion) ?? '', assertion }
}

/**
 * Finds how the client authenticates: `client_secret_basic` (Authorization header),
 * `client_secret_post` (body), `private_key_jwt` (a client assertion in the body), or `none`
 * (a public client's client_id alone). Using two is `invalid_request` (RFC 6749 §2.3).
 */
export function readClientCredentials(authorization: string | undefined, parameters: Parameters): ClientCredentials | undefined {
  const bodyId = parameters.get('client_id')
  const bodySecret = parameters.get('client_secret')
  const basic = authorization !== undefined && /^basic\b/i.test(authorization)
  const asserted = parameters.has('client_assertion') || parameters.has('client_assertion_type')
  if (asserted) {
    if (basic || bodySecret !== undefined) throw new OAuthError('invalid_request', { description: ONE_METHOD })
    return readAssertion(parameters, bodyId)
  }
  if (authorization !== undefined && basic) {
    if (bodySecret !== undefined) {
      throw new OAuthError('invalid_request', { description: 'Use one client authentication method, not both Basic and client_secret.' })
    }
    const credentials = parseBasic(authorization)
    if (bodyId !== undefined && bodyId !== credentials.clientId) {
      throw new OAuthError('invalid_request', { description: 'client_id in the body does not match the Authorization header.' })
    }
    return credentials
  }
  if (bodyId === undefined) return undefined
  if (bodySecret === undefined) return { method: 'none', clientId: bodyId, clientSecret: '' }
  return { method: 'client_secret_post', clientId: bodyId, clientSecret: bodySecret }
}

export function usedBasic(authorization: string | undefined): boolean {
  return authorization !== undefined && /^basic\b/i.test(authorization)
}

/**
 * Where a request came from and which endpoint it came to: the route's own path (never the
 * Host header), which a client assertion's `aud` may name under the issuer.
 */
export function originOf(request: FastifyRequest): RequestOrigin {
  return { ip: request.ip, endpointPath: request.routeOptions.url ?? request.url.split('?')[0] ?? '' }
}
