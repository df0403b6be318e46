import type { ActorClaim } from '../types.js'

/** Port: grants, their refresh tokens and access-token state (token service, refresh grant, introspection, revocation). The core owns it; the store (src/store) implements it. */
/** Who a grant acts for: a user (password, a user login through an API key) or the client itself. */
export type GrantSubjectType = 'user' | 'client'

/** Why a grant ended; stored with it, shown to operators. */
export type GrantEndReason =
  | 'refresh_token_revoked'
  | 'reuse_detected'
  | 'user_disabled'
  | 'user_deleted'
  | 'password_changed'
  | 'client_deleted'
  | 'client_no_longer_allowed'
  | 'secret_rotated'
  | 'api_key_revoked'
  | 'sessions_ended'
  /** RFC 6749 §4.1.2: an authorization code was presented a second time. */
  | 'code_reused'
  /** The user revoked the client's consent ("Connected apps"). */
  | 'consent_revoked'
  /** An operator ended every token of the client (`clients revoke-tokens`). */
  | 'tokens_revoked'

/**
 * A grant: one authorization a subject gave a client (RFC 6749 §1.3), and everything minted
 * from it. Its refresh tokens are one family (RFC 9700 §4.14.2): the family id is the grant
 * id. Its access tokens name it (opaque tokens by column, JWTs by the `gid` claim), so ending
 * the grant ends all of them at once.
 */
export interface GrantRecord {
  id: string
  clientId: string
  subject: string
  subjectType: GrantSubjectType
  /** The grant type that created it (`password`, `api_key`, …): refresh re-checks the client still allows it. */
  grantType: string
  /** The scopes granted, space-delimited; a refresh never widens them (RFC 6749 §6). */
  scope: string
  audience: string | null
  /** The API key whose exchange started the grant; null for client-authenticated grants. */
  apiKeyId: string | null
  createdAt: number
  /** The grant may not live past this, however often it is refreshed (absolute lifetime). */
  expiresAt: number
  revokedAt: number | null
  revokedReason: GrantEndReason | null
  /**
   * RFC 9449 §5: the JWK thumbprint a public client's refresh tokens are bound to (the key of
   * the proof that started the grant); absent when they are not bound.
   */
  dpopJkt?: string
  /**
   * RFC 8707: every resource the grant was given for (an authorization request may name
   * several); each access token serves one of them. Absent: just `audience`.
   */
  resources?: string[]
}

/** Which live grants to end: one, a user's (with one client or all), a client's, or an API key's. */
export type GrantSelector = { grantId: string } | { subject: string; clientId?: string } | { clientId: string } | { apiKeyId: string }

export interface GrantStore {
  /** Stores a grant and, when it has refresh tokens, the first of them, in one transaction. */
  insertGrant(grant: GrantRecord, firstRefreshToken?: RefreshTokenRecord): Promise<void>
  getGrant(id: string): Promise<GrantRecord | undefined>
  /**
   * Ends every live grant the selector matches (sets `revokedAt` and the reason; ended ones
   * keep their first reason). Idempotent; returns how many it ended.
   */
  endGrants(selector: GrantSelector, at: number, reason: GrantEndReason): Promise<number>
}

export interface RefreshTokenRecord {
  digest: string
  /** The grant the token belongs to: its refresh family (RFC 9700 §4.14.2). */
  familyId: string
  clientId: string
  subject: string
  scope: string
  audience: string | null
  issuedAt: number
  expiresAt: number
  /** When it was exchanged for a successor; null while unused. */
  usedAt: number | null
}

export interface RefreshTokenWithGrant extends RefreshTokenRecord {
  grant: GrantRecord
  /**
   * For a user's grant, the user as the same read saw it (`null`: deleted), so a refresh need
   * not read the user again; absent when the store did not read it (the caller reads it then).
   */
  user?: { disabled: boolean } | null
}

export type ConsumeResult = 'consumed' | 'already-used'

export interface RefreshTokenStore {
  findRefreshToken(digest: string): Promise<RefreshTokenWithGrant | undefined>
  /**
   * Marks the token used (at `at`) and stores its successor in one transaction. Exactly one of
   * several concurrent calls for the same token returns 'consumed'; the others return
   * 'already-used' and store nothing. It resolves only once the write has committed (it may be
   * committed together with other calls': group commit).
   */
  rotateRefreshToken(digest: string, at: number, successor: RefreshTokenRecord): Promise<ConsumeResult>
  /** Extends an unrotated token's expiry (sliding lifetime without rotation). */
  touchRefreshToken(digest: string, expiresAt: number): Promise<void>
}

export interface OpaqueTokenRecord {
  digest: string
  clientId: string
  subject: string
  scope: string
  audience: string
  /** The grant it was minted from; null for client_credentials (the client acts for itself). */
  grantId: string | null
  issuedAt: number
  expiresAt: number
  revokedAt: number | null
  /** RFC 9449 §6.2: the JWK thumbprint the token is bound to (`cnf.jkt` at introspection); absent for a bearer token. */
  dpopJkt?: string
  /** RFC 8693 §4.1: the actor, when a token exchange minted it. */
  act?: ActorClaim
}

export interface AccessTokenStore {
  /** Resolves once the token is committed (possibly together with others: group commit); a failed write rejects. */
  insertOpaqueToken(token: OpaqueTokenRecord): Promise<void>
  /** `grantEnded` is true when the token's grant was ended or is gone. */
  findOpaqueToken(digest: string): Promise<(OpaqueTokenRecord & { grantEnded: boolean }) | undefined>
  revokeOpaqueToken(digest: string, at: number): Promise<void>
  /** Remembers a revoked JWT until it would have expired anyway. */
  revokeJwt(jti: string, expiresAt: number): Promise<void>
  isJwtRevoked(jti: string): Promise<boolean>
}
