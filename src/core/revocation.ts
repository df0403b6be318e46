import { endGrants } from './grant-ending.js'
import type { TokenLookupDeps } from './introspection.js'
import type { GrantStore } from './tokens/token-store.js'
import { digestSecret } from './credentials/secrets.js'
import { looksLikeJwt, verifyAccessToken } from './tokens/jwt-access-token.js'
import { looksLikeOpaqueToken } from './tokens/opaque-token.js'
import { looksLikeRefreshToken, refreshTokenKey } from './tokens/refresh-token-format.js'
import type { Client } from './types.js'


/**
 * RFC 7009 §2.1. Revokes the token if it belongs to `client`. A token that is unknown,
 * already invalid, or another client's is left alone and the call still succeeds (§2.2),
 * so revocation cannot be used to probe for tokens.
 */
export async function revokeToken(deps: TokenLookupDeps & { grants: Pick<GrantStore, 'endGrants'> }, client: Client, token: string): Promise<void> {
  const now = deps.clock.now()
  if (looksLikeRefreshToken(token)) {
    const record = await deps.refreshTokens.findRefreshToken(refreshTokenKey(token))
    // §2.1: revoking a refresh token ends the grant: every refresh token of it, and every
    // access token minted from it (JWTs name the grant; introspection checks it).
    if (record && record.clientId === client.id) await endGrants({ grants: deps.grants, clock: deps.clock }, { grantId: record.familyId }, 'refresh_token_revoked')
    return
  }
  if (looksLikeOpaqueToken(token)) {
    const digest = digestSecret(token)
    const record = await deps.accessTokens.findOpaqueToken(digest)
    if (record && record.clientId === client.id) await deps.accessTokens.revokeOpaqueToken(digest, now)
    return
  }
  if (looksLikeJwt(token)) {
    const claims = await verifyAccessToken(deps.keys, token, { issuer: deps.tokens.issuer, now })
    if (claims && claims.client_id === client.id) await deps.accessTokens.revokeJwt(claims.jti, claims.exp * 1000)
  }
}
