import type { ClientCache } from './client-cache.js'
import { secretMatchesDigest, UNKNOWN_SECRET_DIGEST } from './credentials/secrets.js'
import { OAuthError } from './errors.js'
import type { Client, ClientCredentials } from './types.js'

/**
 * RFC 6749 §2.3.1. Unknown client and wrong secret take the same path (a digest comparison
 * against a dummy) and give the same answer, so neither timing nor wording tells them apart.
 */
export async function authenticateClient(clients: ClientCache, credentials: ClientCredentials | undefined): Promise<Client> {
  if (!credentials || credentials.method === 'none') {
    throw new OAuthError('invalid_client', { description: 'Client authentication is required.' })
  }
  const client = await clients.get(credentials.clientId)
  const matches = secretMatchesDigest(credentials.clientSecret, client?.secretDigest ?? UNKNOWN_SECRET_DIGEST)
  if (!client || !matches) {
    throw new OAuthError('invalid_client', {
      description: 'Client authentication failed.',
      debug: client ? 'wrong client secret' : 'unknown client id',
    })
  }
  return client
}
