import type { TokenService } from '../tokens/token-service.js'
import type { Client, DialectPolicy, TokenResult } from '../types.js'

/**
 * Starts a user's grant and issues its access token, and a refresh token when the dialect's
 * rule allows one (password grant). Every token belongs to the grant, so ending the grant
 * (the user disabled, the refresh token revoked, …) ends them all.
 */
export async function issueUserTokens(
  deps: { tokens: TokenService },
  input: { client: Client; subject: string; scopes: string[]; policy: DialectPolicy; grantType: string; audience?: string | undefined },
): Promise<TokenResult> {
  const { client, subject, scopes, policy, audience } = input
  const withRefreshToken =
    policy.refreshTokenRule === 'offline_access'
      ? scopes.includes('offline_access')
      : client.grantTypes.includes('refresh_token')
  const { grant, refresh } = await deps.tokens.startGrant({ client, subject, subjectType: 'user', grantType: input.grantType, scopes, withRefreshToken, ...(audience !== undefined ? { audience } : {}) })
  const access = await deps.tokens.issueAccessToken({ client, subject, scopes, grantId: grant.id, ...(audience !== undefined ? { audience } : {}) })
  return {
    accessToken: access.token,
    tokenType: 'Bearer',
    expiresIn: access.expiresIn,
    ...(refresh ? { refreshToken: refresh.token } : {}),
    scope: scopes.join(' '),
    clientId: client.id,
    subject,
  }
}
