import type { ClientCache } from './client-cache.js'
import type { ClientAssertionVerifier } from './credentials/client-assertion.js'
import { secretMatchesDigest, UNKNOWN_SECRET_DIGEST } from './credentials/secrets.js'
import { OAuthError } from './errors.js'
import type { Client, ClientCredentials } from './types.js'

export interface ClientAuthenticationDeps {
  clients: ClientCache
  /** Checks `private_key_jwt` assertions; without it every assertion is refused. */
  assertions?: ClientAssertionVerifier
}

/**
 * RFC 6749 §2.3.1. Unknown client and wrong secret take the same path (a digest comparison
 * against a dummy) and give the same answer, so neither timing nor wording tells them apart.
 * A client assertion (RFC 7523 §2.2) authenticates a private_key_jwt client and nothing else;
 * a private_key_jwt client is authenticated by nothing else (it has no secret).
 */
export async function authenticateClient(deps: ClientAuthenticationDeps, credentials: ClientCredentials | undefined, endpointPath?: string): Promise<Client> {
  if (!credentials) throw new OAuthError('invalid_client', { description: 'Client authentication is required.' })
  if (credentials.method === 'none') return identifyPublicClient(deps.clients, credentials.clientId)
  const client = await deps.clients.get(credentials.clientId)
  if (credentials.method === 'private_key_jwt') {
    if (!deps.assertions) throw new OAuthError('invalid_client', { description: 'Client authentication failed.', debug: 'private_key_jwt is not served here' })
    return deps.assertions.verify(client, credentials.assertion, endpointPath)
  }
  const matches = secretMatchesDigest(credentials.clientSecret, client?.secretDigest ?? UNKNOWN_SECRET_DIGEST)
  if (!client || !matches || client.tokenEndpointAuthMethod === 'private_key_jwt') {
    throw new OAuthError('invalid_client', {
      description: 'Client authentication failed.',
      debug: !client ? 'unknown client id' : client.tokenEndpointAuthMethod === 'private_key_jwt' ? 'a secret sent for a private_key_jwt client' : 'wrong client secret',
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
