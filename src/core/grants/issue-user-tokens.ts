import type { TokenService } from '../tokens/token-service.js'
import type { Client, DialectPolicy, TokenResult } from '../types.js'

/**
 * Issues the access token, and a refresh token when the dialect's rule allows one, for a
 * grant that acts for a subject (password, API key).
 */
export async function issueUserTokens(
  deps: { tokens: TokenService },
  input: { client: Client; subject: string; scopes: string[]; policy: DialectPolicy; audience?: string | undefined },
): Promise<TokenResult> {
  const { client, subject, scopes, policy, audience } = input
  const wantsRefresh =
    policy.refreshTokenRule === 'offline_access'
      ? scopes.includes('offline_access')
      : client.grantTypes.includes('refresh_token')
  const refresh = wantsRefresh ? await deps.tokens.issueRefreshToken(client, subject, scopes, null, audience) : undefined
  const access = await deps.tokens.issueAccessToken({ client, subject, scopes, familyId: refresh?.record.familyId ?? null, ...(audience !== undefined ? { audience } : {}) })
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
