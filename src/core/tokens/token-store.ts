/** Port: refresh families, refresh tokens and access-token state (token service, refresh grant, introspection, revocation). The core owns it; the store (src/store) implements it. */
export interface RefreshFamily {
  id: string
  clientId: string
  subject: string
  /** The family may not live past this, however often it is refreshed (absolute lifetime). */
  expiresAt: number
  revokedAt: number | null
  createdAt: number
  /** The API key whose exchange started the family; null for client-authenticated grants. */
  apiKeyId?: string | null
}

export interface RefreshTokenRecord {
  digest: string
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

export interface RefreshTokenWithFamily extends RefreshTokenRecord {
  family: RefreshFamily
}

export type ConsumeResult = 'consumed' | 'already-used'

export interface RefreshTokenStore {
  insertRefreshFamily(family: RefreshFamily, first: RefreshTokenRecord): Promise<void>
  findRefreshToken(digest: string): Promise<RefreshTokenWithFamily | undefined>
  /**
   * Marks the token used and stores its successor in one transaction. Exactly one of
   * several concurrent calls for the same token returns 'consumed'; the others return
   * 'already-used' and store nothing.
   */
  rotateRefreshToken(digest: string, at: number, successor: RefreshTokenRecord): Promise<ConsumeResult>
  /** Stores another token in a family (a retry inside the reuse interval). */
  insertRefreshToken(token: RefreshTokenRecord): Promise<void>
  /** Extends an unrotated token's expiry (sliding lifetime without rotation). */
  touchRefreshToken(digest: string, expiresAt: number): Promise<void>
  /** Revokes every token of the family (RFC 9700 §4.14). Idempotent. */
  revokeRefreshFamily(familyId: string, at: number): Promise<void>
}

export interface OpaqueTokenRecord {
  digest: string
  clientId: string
  subject: string
  scope: string
  audience: string
  familyId: string | null
  issuedAt: number
  expiresAt: number
  revokedAt: number | null
}

export interface AccessTokenStore {
  insertOpaqueToken(token: OpaqueTokenRecord): Promise<void>
  /** Null `familyRevokedAt` when the token has no family or the family stands. */
  findOpaqueToken(digest: string): Promise<(OpaqueTokenRecord & { familyRevokedAt: number | null }) | undefined>
  revokeOpaqueToken(digest: string, at: number): Promise<void>
  /** Remembers a revoked JWT until it would have expired anyway. */
  revokeJwt(jti: string, expiresAt: number): Promise<void>
  isJwtRevoked(jti: string): Promise<boolean>
}
