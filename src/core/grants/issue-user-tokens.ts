import type { TokenService } from '../tokens/token-service.js'
import type { Client, DialectPolicy, TokenResult } from '../types.js'

/**
 * RFC 9449 §5: a public client's refresh tokens are bound to the key of the proof that started
 * the grant; a confidential client's are bound to its authentication already, so not to a key.
 */
export function dpopGrantBinding(client: Client, jkt: string | undefined): { dpopJkt?: string } {
  return jkt !== undefined && client.tokenEndpointAuthMethod === 'none' ? { dpopJkt: jkt } : {}
}

/**
 * Starts a user's grant and issues its access token, and a refresh token when the dialect's
 * rule allows one (password grant). Every token belongs to the grant, so ending the grant
 * (the user disabled, the refresh token revoked, …) ends them all.
 */
export async function issueUserTokens(
  deps: { tokens: TokenService },
  input: { client: Client; subject: string; scopes: string[]; policy: DialectPolicy; grantType: string; audience?: string | undefined; dpopJkt?: string | undefined },
): Promise<TokenResult> {
  const { client, subject, scopes, policy, audience } = input
  const withRefreshToken =
    policy.refreshTokenRule === 'offline_access'
      ? scopes.includes('offline_access')
      : client.grantTypes.includes('refresh_token')
  const { grant, refresh } = await deps.tokens.startGrant({ client, subject, subjectType: 'user', grantType: input.grantType, scopes, withRefreshToken, ...(audience !== undefined ? { audience } : {}), ...dpopGrantBinding(client, input.dpopJkt) })
  const access = await deps.tokens.issueAccessToken({ client, subject, scopes, grantId: grant.id, ...(audience !== undefined ? { audience } : {}), ...(input.dpopJkt !== undefined ? { dpopJkt: input.dpopJkt } : {}) })
  return {
    accessToken: access.token,
    tokenType: input.dpopJkt !== undefined ? 'DPoP' : 'Bearer',
    expiresIn: access.expiresIn,
    ...(refresh ? { refreshToken: refresh.token } : {}),
    scope: scopes.join(' '),
    clientId: client.id,
    subject,
  }
}
