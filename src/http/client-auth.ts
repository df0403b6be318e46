import { OAuthError } from '../core/errors.js'
import type { ClientCredentials } from '../core/types.js'
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

/**
 * Finds how the client authenticates: `client_secret_basic` (Authorization header) or
 * `client_secret_post` (body). Using both is `invalid_request` (RFC 6749 §2.3).
 */
export function readClientCredentials(authorization: string | undefined, parameters: Parameters): ClientCredentials | undefined {
  const bodyId = parameters.get('client_id')
  const bodySecret = parameters.get('client_secret')
  if (authorization !== undefined && /^basic\b/i.test(authorization)) {
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
