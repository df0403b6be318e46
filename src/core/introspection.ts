import type { AccessTokenStore, RefreshTokenStore } from './tokens/token-store.js'
import { toSeconds, type Clock } from './clock.js'
import { digestSecret } from './credentials/secrets.js'
import { looksLikeJwt, verifyAccessToken } from './tokens/jwt-access-token.js'
import type { KeyRing } from './tokens/key-ring.js'
import { looksLikeOpaqueToken } from './tokens/opaque-token.js'
import { looksLikeRefreshToken, refreshTokenKey } from './tokens/refresh-token-format.js'
import type { TokenService } from './tokens/token-service.js'
import type { TokenIntrospection } from './types.js'

/** What looking a token up needs: the keys for JWTs, the store for opaque and refresh tokens. */
export type TokenLookupDeps = {
  keys: KeyRing
  tokens: TokenService
  accessTokens: AccessTokenStore
  refreshTokens: RefreshTokenStore
  clock: Clock
}

const INACTIVE: TokenIntrospection = { active: false }

/** RFC 7662 §2.2: anything not currently valid is just `active: false`, with no reason given. */
export async function introspectToken(deps: TokenLookupDeps, token: string): Promise<TokenIntrospection> {
  const now = deps.clock.now()
  if (looksLikeJwt(token)) {
    const claims = await verifyAccessToken(deps.keys, token, { issuer: deps.tokens.issuer, now })
    if (!claims || (await deps.accessTokens.isJwtRevoked(claims.jti))) return INACTIVE
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
    if (!record || record.revokedAt !== null || record.familyRevokedAt !== null || record.expiresAt <= now) return INACTIVE
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
    if (!record || record.usedAt !== null || record.family.revokedAt !== null) return INACTIVE
    if (record.expiresAt <= now || record.family.expiresAt <= now) return INACTIVE
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
