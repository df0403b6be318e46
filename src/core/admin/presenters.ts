import type { ApiKeyView } from './api-key-admin.js'
import type { ClientSettings, ClientView } from './client-admin.js'
import type { ApplicationType, ClientAuthMethod, ClientJwks, GrantType, SigningAlg, TokenFormat } from '../types.js'
import type { UserView } from './user-admin.js'
import type { OperatorRecord } from './operator-store.js'
import type { Api } from '../apis/api-store.js'

/** The wire form of records for operators (CLI --json, management API): snake_case, ISO times. */
export function presentClient(client: ClientView): Record<string, unknown> {
  return {
    client_id: client.id,
    name: client.name,
    application_type: client.applicationType,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    jwks: client.jwks,
    jwks_uri: client.jwksUri,
    grant_types: client.grantTypes,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    require_par: client.requirePar,
    require_dpop: client.requireDpop,
    skip_consent: client.skipConsent,
    scopes: client.scopes,
    default_scopes: client.defaultScopes,
    audience: client.audience,
    resources: client.resources,
    allow_impersonation: client.allowImpersonation,
    token_format: client.tokenFormat,
    signing_alg: client.signingAlg,
    access_token_ttl: client.accessTokenTtl,
    refresh_token_ttl: client.refreshTokenAbsoluteTtl,
    refresh_token_sliding_ttl: client.refreshTokenSlidingTtl,
    refresh_reuse_interval: client.refreshTokenReuseInterval,
    token_reuse_seconds: client.tokenReuseSeconds,
    rotate_refresh_tokens: client.rotateRefreshTokens,
    allowed_users: client.allowedUsers,
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

/** The wire form of a registered API and its scopes. */
export function presentApi(api: Api): Record<string, unknown> {
  return {
    id: api.id,
    identifier: api.identifier,
    name: api.name,
    scopes: api.scopes.map((scope) => ({ name: scope.name, description: scope.description, self_service: scope.selfService })),
    created_at: new Date(api.createdAt).toISOString(),
    updated_at: new Date(api.updatedAt).toISOString(),
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

/** Client settings under their wire names (as presentClient writes them): management API bodies, CLI flags. */
export interface ClientWire {
  client_id?: string
  name?: string
  /** `none`: a public client, without a secret (fixed at creation). `private_key_jwt`: no secret; `jwks` or `jwks_uri`. */
  token_endpoint_auth_method?: ClientAuthMethod
  /** A private_key_jwt client's public keys (RFC 7591 §2); null removes them. */
  jwks?: ClientJwks | null
  /** Where a private_key_jwt client publishes its keys (RFC 7591 §2); null removes it. */
  jwks_uri?: string | null
  application_type?: ApplicationType | null
  grant_types?: GrantType[]
  redirect_uris?: string[]
  post_logout_redirect_uris?: string[]
  require_par?: boolean
  require_dpop?: boolean
  skip_consent?: boolean
  scopes?: string[]
  default_scopes?: string[]
  audience?: string | null
  /** RFC 8707: further resources it may ask for (absolute URIs); an update replaces the list. */
  resources?: string[]
  /** RFC 8693: it may exchange a token without an actor token. */
  allow_impersonation?: boolean
  token_format?: TokenFormat
  signing_alg?: SigningAlg
  access_token_ttl?: number
  refresh_token_ttl?: number
  refresh_token_sliding_ttl?: number
  refresh_reuse_interval?: number
  token_reuse_seconds?: number
  rotate_refresh_tokens?: boolean
  /** User ids (null: any user). */
  allowed_users?: string[] | null
}

export function clientSettingsFromWire(body: ClientWire): Partial<ClientSettings> {
  const settings: Partial<ClientSettings> = {}
  if (body.name !== undefined) settings.name = body.name
  if (body.token_endpoint_auth_method !== undefined) settings.tokenEndpointAuthMethod = body.token_endpoint_auth_method
  if (body.jwks !== undefined) settings.jwks = body.jwks
  if (body.jwks_uri !== undefined) settings.jwksUri = body.jwks_uri
  if (body.application_type !== undefined) settings.applicationType = body.application_type
  if (body.grant_types !== undefined) settings.grantTypes = body.grant_types
  if (body.redirect_uris !== undefined) settings.redirectUris = body.redirect_uris
  if (body.post_logout_redirect_uris !== undefined) settings.postLogoutRedirectUris = body.post_logout_redirect_uris
  if (body.require_par !== undefined) settings.requirePar = body.require_par
  if (body.require_dpop !== undefined) settings.requireDpop = body.require_dpop
  if (body.skip_consent !== undefined) settings.skipConsent = body.skip_consent
  if (body.scopes !== undefined) settings.scopes = body.scopes
  if (body.default_scopes !== undefined) settings.defaultScopes = body.default_scopes
  if (body.audience !== undefined) settings.audience = body.audience
  if (body.resources !== undefined) settings.resources = body.resources
  if (body.allow_impersonation !== undefined) settings.allowImpersonation = body.allow_impersonation
  if (body.token_format !== undefined) settings.tokenFormat = body.token_format
  if (body.signing_alg !== undefined) settings.signingAlg = body.signing_alg
  if (body.access_token_ttl !== undefined) settings.accessTokenTtl = body.access_token_ttl
  if (body.refresh_token_ttl !== undefined) settings.refreshTokenAbsoluteTtl = body.refresh_token_ttl
  if (body.refresh_token_sliding_ttl !== undefined) settings.refreshTokenSlidingTtl = body.refresh_token_sliding_ttl
  if (body.refresh_reuse_interval !== undefined) settings.refreshTokenReuseInterval = body.refresh_reuse_interval
  if (body.token_reuse_seconds !== undefined) settings.tokenReuseSeconds = body.token_reuse_seconds
  if (body.rotate_refresh_tokens !== undefined) settings.rotateRefreshTokens = body.rotate_refresh_tokens
  if (body.allowed_users !== undefined) settings.allowedUsers = body.allowed_users
  return settings
}

export function presentOperator(operator: OperatorRecord): Record<string, unknown> {
  return { kind: operator.kind, id: operator.id, role: operator.role, created_at: new Date(operator.createdAt).toISOString() }
}
