import type { ClientCache } from './client-cache.js'
import type { AccessTokenStore, GrantStore, RefreshTokenStore } from './tokens/token-store.js'
import { toSeconds, type Clock } from './clock.js'
import { digestSecret } from './credentials/secrets.js'
import { looksLikeJwt, verifyAccessToken } from './tokens/jwt-access-token.js'
import type { KeyRing } from './tokens/key-ring.js'
import { looksLikeOpaqueToken } from './tokens/opaque-token.js'
import { looksLikeRefreshToken, refreshTokenKey } from './tokens/refresh-token-format.js'
import type { TokenService } from './tokens/token-service.js'
import type { TokenIntrospection } from './types.js'

/** What looking a token up needs: the keys for JWTs, the store for opaque and refresh tokens and grants, the clients. */
export type TokenLookupDeps = {
  keys: KeyRing
  tokens: TokenService
  accessTokens: AccessTokenStore
  refreshTokens: RefreshTokenStore
  grants: Pick<GrantStore, 'getGrant'>
  clients: Pick<ClientCache, 'get'>
  clock: Clock
}

/**
 * An access token stands only while its client does and, when it names a grant, while the
 * grant does; and not if it was issued before the client's not-before instant (a secret
 * rotated with "revoke tokens"). JWTs carry whole seconds (`iat`): one issued in the second
 * of the rotation, before it, still stands.
 */
async function accessTokenStands(deps: TokenLookupDeps, token: { clientId: string; issuedAtMs: number; wholeSeconds: boolean; grantId: string | null | undefined }): Promise<boolean> {
  const client = await deps.clients.get(token.clientId)
  if (!client) return false
  if (client.tokensNotBefore !== null) {
    const notBefore = token.wholeSeconds ? Math.floor(client.tokensNotBefore / 1000) * 1000 : client.tokensNotBefore
    if (token.issuedAtMs < notBefore) return false
  }
  if (token.grantId === undefined || token.grantId === null) return true
  const grant = await deps.grants.getGrant(token.grantId)
  return grant !== undefined && grant.revokedAt === null
}

const INACTIVE: TokenIntrospection = { active: false }

/** RFC 7662 §2.2: anything not currently valid is just `active: false`, with no reason given. */
export async function introspectToken(deps: TokenLookupDeps, token: string): Promise<TokenIntrospection> {
  const now = deps.clock.now()
  if (looksLikeJwt(token)) {
    const claims = await verifyAccessToken(deps.keys, token, { issuer: deps.tokens.issuer, now })
    if (!claims || (await deps.accessTokens.isJwtRevoked(claims.jti))) return INACTIVE
    if (!(await accessTokenStands(deps, { clientId: claims.client_id, issuedAtMs: claims.iat * 1000, wholeSeconds: true, grantId: claims.gid }))) return INACTIVE
    return {
      active: true,
      tokenKind: 'access_token',
      scope: claims.scope,
      clientId: claims.client_id,
      subject: claims.sub,
      audience: claims.aud,
      issuer: claims.iss,
      expiresAt: claims.exp,
      issuedAt: claims.iat,
      jti: claims.jti,
    }
  }
  if (looksLikeOpaqueToken(token)) {
    const record = await deps.accessTokens.findOpaqueToken(digestSecret(token))
    if (!record || record.revokedAt !== null || record.grantEnded || record.expiresAt <= now) return INACTIVE
    if (!(await accessTokenStands(deps, { clientId: record.clientId, issuedAtMs: record.issuedAt, wholeSeconds: false, grantId: null }))) return INACTIVE
    return {
      active: true,
      tokenKind: 'access_token',
      scope: record.scope,
      clientId: record.clientId,
      subject: record.subject,
      audience: record.audience,
      issuer: deps.tokens.issuer,
      expiresAt: toSeconds(record.expiresAt),
      issuedAt: toSeconds(record.issuedAt),
    }
  }
  if (looksLikeRefreshToken(token)) {
    const record = await deps.refreshTokens.findRefreshToken(refreshTokenKey(token))
    if (!record || record.usedAt !== null || record.grant.revokedAt !== null) return INACTIVE
    if (record.expiresAt <= now || record.grant.expiresAt <= now) return INACTIVE
    return {
      active: true,
      tokenKind: 'refresh_token',
      scope: record.scope,
      clientId: record.clientId,
      subject: record.subject,
      issuer: deps.tokens.issuer,
      expiresAt: toSeconds(record.expiresAt),
      issuedAt: toSeconds(record.issuedAt),
    }
  }
  return INACTIVE
}
