import type { ClientCache } from './client-cache.js'
import { secretMatchesDigest, UNKNOWN_SECRET_DIGEST } from './credentials/secrets.js'
import { OAuthError } from './errors.js'
import type { Client, ClientCredentials } from './types.js'

/**
 * RFC 6749 §2.3.1. Unknown client and wrong secret take the same path (a digest comparison
 * against a dummy) and give the same answer, so neither timing nor wording tells them apart.
 */
export async function authenticateClient(clients: ClientCache, credentials: ClientCredentials | undefined): Promise<Client> {
  if (!credentials) throw new OAuthError('invalid_client', { description: 'Client authentication is required.' })
  if (credentials.method === 'none') return identifyPublicClient(clients, credentials.clientId)
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

/**
 * A public client (RFC 6749 §2.1) only names itself with `client_id`; a confidential client
 * that sends no secret is refused as one that sent a wrong one. A public client's secret
 * digest is empty, so no secret ever authenticates it (secretMatchesDigest compares lengths).
 */
async function identifyPublicClient(clients: ClientCache, clientId: string): Promise<Client> {
  const client = await clients.get(clientId)
  if (client?.tokenEndpointAuthMethod === 'none') return client
  throw new OAuthError('invalid_client', {
    // The same words either way: the answer does not tell which client ids exist.
    description: 'Client authentication is required.',
    debug: client ? 'no client secret' : 'unknown client id',
  })
}
