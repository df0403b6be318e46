import type { ApiKeyView } from './api-key-admin.js'
import type { ClientView } from './client-admin.js'
import type { UserView } from './user-admin.js'

/** The wire form of records for operators (CLI --json, management API): snake_case, ISO times. */
export function presentClient(client: ClientView): Record<string, unknown> {
  return {
    client_id: client.id,
    name: client.name,
    grant_types: client.grantTypes,
    scopes: client.scopes,
    default_scopes: client.defaultScopes,
    audience: client.audience,
    token_format: client.tokenFormat,
    access_token_ttl: client.accessTokenTtl,
    refresh_token_ttl: client.refreshTokenAbsoluteTtl,
    refresh_token_sliding_ttl: client.refreshTokenSlidingTtl,
    refresh_reuse_interval: client.refreshTokenReuseInterval,
    rotate_refresh_tokens: client.rotateRefreshTokens,
    created_at: new Date(client.createdAt).toISOString(),
    updated_at: new Date(client.updatedAt).toISOString(),
  }
}

export function presentApiKey(key: ApiKeyView): Record<string, unknown> {
  return {
    id: key.id,
    name: key.name,
    client_id: key.clientId,
    scopes: key.scopes,
    audience: key.audience,
    expires_at: key.expiresAt === null ? null : new Date(key.expiresAt).toISOString(),
    revoked_at: key.revokedAt === null ? null : new Date(key.revokedAt).toISOString(),
    created_at: new Date(key.createdAt).toISOString(),
  }
}

export function presentUser(user: UserView): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    name: user.name,
    email: user.email,
    disabled: user.disabled,
    created_at: new Date(user.createdAt).toISOString(),
  }
}
