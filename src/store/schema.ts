/** Row types as Kysely sees them. Lists are stored space-separated; booleans as 0/1. */
export interface ClientsTable {
  id: string
  name: string
  secret_digest: string
  grant_types: string
  scopes: string
  default_scopes: string
  audience: string | null
  token_format: string
  /** 'ES256' or 'RS256' (migration 2026-12-01-080). */
  signing_alg: string
  access_token_ttl: number
  refresh_absolute_ttl: number
  refresh_sliding_ttl: number
  refresh_reuse_interval: number
  token_reuse_seconds: number
  rotate_refresh: number
  tokens_not_before: number | null
  /** Space-separated user ids; null means any user. */
  allowed_users: string | null
  /** Migration 2026-12-02-090: how the client authenticates; 'none' is a public client. */
  token_endpoint_auth_method: string
  application_type: string | null
  /** Space-separated (a URI has no space). */
  redirect_uris: string
  post_logout_redirect_uris: string
  require_par: number
  require_dpop: number
  skip_consent: number
  /** Migration 2026-12-02-110: a private_key_jwt client's JWK Set as JSON text; null otherwise. */
  jwks: string | null
  jwks_uri: string | null
  /** Migration 2026-12-02-130: space-separated resource URIs (RFC 8707); 0/1. */
  resources: string
  allow_impersonation: number
  created_at: number
  updated_at: number
}

/** Migration 2026-12-02-110: accepted client assertions' jti, one row per (client, jti), until expires_at. */
export interface ClientAssertionJtisTable {
  client_id: string
  jti: string
  expires_at: number
}

export interface UsersTable {
  id: string
  username: string
  password_hash: string
  name: string | null
  email: string | null
  disabled: number
  created_at: number
}

export interface ApiKeysTable {
  id: string
  name: string
  client_id: string
  secret_digest: string
  scopes: string
  audience: string | null
  expires_at: number | null
  revoked_at: number | null
  created_at: number
}

export interface SigningKeysTable {
  kid: string
  alg: string
  public_jwk: string
  private_jwk_enc: string
  created_at: number
  retired_at: number | null
}

/** Grants (before 2026-12-01 the table was `refresh_families`: a grant's refresh tokens are one family). */
export interface GrantsTable {
  id: string
  client_id: string
  subject: string
  subject_type: string
  grant_type: string
  scope: string
  audience: string | null
  expires_at: number
  revoked_at: number | null
  revoked_reason: string | null
  created_at: number
  api_key_id: string | null
  dpop_jkt: string | null
  /** Migration 2026-12-02-130: every resource granted, space-separated. */
  resources: string
}

export interface RefreshTokensTable {
  digest: string
  family_id: string
  client_id: string
  subject: string
  scope: string
  audience: string | null
  issued_at: number
  expires_at: number
  used_at: number | null
}

export interface OpaqueTokensTable {
  digest: string
  client_id: string
  subject: string
  scope: string
  audience: string
  grant_id: string | null
  issued_at: number
  expires_at: number
  revoked_at: number | null
  dpop_jkt: string | null
  /** Migration 2026-12-02-130: RFC 8693 §4.1 `act` as JSON text; null when not exchanged. */
  act: string | null
}

export interface RevokedJwtsTable {
  jti: string
  expires_at: number
}

/** RFC 9449 §11.1: DPoP proofs seen, by a digest of their key and jti, until their window passes. */
export interface DpopProofsTable {
  key: string
  expires_at: number
}

export interface AuditEventsTable {
  id: string
  at: number
  actor: string
  action: string
  target: string | null
  ip: string | null
  /** JSON text. */
  details: string
}

export interface ClientUsageTable {
  client_id: string
  grant_type: string
  count: number
  last_issued_at: number
}

export interface ConsoleAppsTable {
  client_id: string
  owner_user_id: string
  kind: string
  api_key_id: string | null
  created_at: number
}

export interface OperatorsTable {
  /** `user` or `client`. */
  subject_kind: string
  subject_id: string
  /** `admin` or `read-only`. */
  role: string
  created_at: number
}

export interface ApisTable {
  id: string
  identifier: string
  name: string
  created_at: number
  updated_at: number
}

/** One row a scope; the name is the primary key, so scope names are unique across all APIs. */
export interface ApiScopesTable {
  name: string
  api_id: string
  description: string
  self_service: number
  /** Order within the API, as the operator gave the scopes. */
  position: number
}

/** Migration 2026-12-02-100 (issue 13): authorization codes, stored by digest. */
export interface AuthorizationCodesTable {
  digest: string
  client_id: string
  user_id: string
  redirect_uri: string
  scope: string
  audience: string | null
  code_challenge: string
  nonce: string | null
  session_id: string
  auth_time: number
  issued_at: number
  expires_at: number
  used_at: number | null
  grant_id: string | null
  /** Migration 2026-12-02-130: resources of the request (RFC 8707), space-separated; the DPoP key it is bound to (RFC 9449 §10). */
  resources: string
  dpop_jkt: string | null
}

export interface SignInSessionsTable {
  id: string
  /** Unique: the digest of the cookie's secret. */
  digest: string
  user_id: string
  auth_time: number
  created_at: number
  last_seen_at: number
  expires_at: number
  ended_at: number | null
}

/** One row a (user, client). */
export interface ConsentsTable {
  user_id: string
  client_id: string
  scope: string
  created_at: number
  updated_at: number
}

export interface PushedRequestsTable {
  digest: string
  client_id: string
  /** JSON text: an object of string parameters. */
  parameters: string
  created_at: number
  expires_at: number
  used_at: number | null
}

export interface DeviceAuthorizationsTable {
  device_code_digest: string
  /** Unique. */
  user_code_digest: string
  client_id: string
  scope: string
  audience: string | null
  /** `pending`, `approved` or `denied`. */
  status: string
  user_id: string | null
  session_id: string | null
  auth_time: number | null
  /** Seconds between polls. */
  poll_interval: number
  last_polled_at: number | null
  /** The poll before last_polled_at; only recordDevicePoll reads it (its RETURNING). */
  prior_polled_at: number | null
  created_at: number
  expires_at: number
  used_at: number | null
  grant_id: string | null
}

export interface Database {
  clients: ClientsTable
  users: UsersTable
  api_keys: ApiKeysTable
  signing_keys: SigningKeysTable
  grants: GrantsTable
  refresh_tokens: RefreshTokensTable
  opaque_tokens: OpaqueTokensTable
  revoked_jwts: RevokedJwtsTable
  dpop_proofs: DpopProofsTable
  audit_events: AuditEventsTable
  console_apps: ConsoleAppsTable
  client_usage: ClientUsageTable
  operators: OperatorsTable
  apis: ApisTable
  api_scopes: ApiScopesTable
  authorization_codes: AuthorizationCodesTable
  sign_in_sessions: SignInSessionsTable
  consents: ConsentsTable
  pushed_requests: PushedRequestsTable
  device_authorizations: DeviceAuthorizationsTable
  client_assertion_jtis: ClientAssertionJtisTable
}
