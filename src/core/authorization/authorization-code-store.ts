import type { ConsumeResult } from '../tokens/token-store.js'

/**
 * An authorization code (RFC 6749 §4.1.2), stored as a digest: single use, short-lived, and
 * bound to everything the token request must repeat or prove — client, redirect URI, PKCE
 * challenge (RFC 7636 §4.4) — and to what the ID token must carry (nonce, session, auth time).
 */
export interface AuthorizationCodeRecord {
  /** SHA-256 (hex) of the code; the code itself is never stored. */
  digest: string
  clientId: string
  userId: string
  /** The redirect_uri of the authorization request, exactly as sent (RFC 6749 §4.1.3). */
  redirectUri: string
  /** The scopes the user granted, space-delimited. */
  scope: string
  /** The audience decided at the authorization endpoint; null: the client's default. */
  audience: string | null
  /** RFC 7636 §4.2 S256 challenge (base64url of SHA-256 of the verifier). */
  codeChallenge: string
  /** OpenID Connect Core §3.1.2.1: echoed in the ID token. */
  nonce: string | null
  /** The sign-in session that approved it: the ID token's `sid`. */
  sessionId: string
  /** When the user last authenticated (ms): the ID token's `auth_time`. */
  authTime: number
  issuedAt: number
  expiresAt: number
  /** When it was redeemed; null while unused. */
  usedAt: number | null
  /** The grant its redemption started: a second use ends it (RFC 6749 §4.1.2, RFC 9700 §4.2.4). */
  grantId: string | null
  /** RFC 8707 §2: the resources of the request (each checked against the client's); absent: none named. */
  resources?: string[]
  /** RFC 9449 §10: the `dpop_jkt` of the request; the token request must carry a proof by that key. */
  dpopJkt?: string
}

/** Port: authorization codes. The core owns it; the store (src/store) implements it. */
export interface AuthorizationCodeStore {
  insertAuthorizationCode(code: AuthorizationCodeRecord): Promise<void>
  findAuthorizationCode(digest: string): Promise<AuthorizationCodeRecord | undefined>
  /**
   * Marks the code used and records the grant it started, in one statement. Exactly one of
   * several concurrent calls for the same code returns 'consumed'; the others return
   * 'already-used' and change nothing (the first grant id stays).
   */
  consumeAuthorizationCode(digest: string, at: number, grantId: string): Promise<ConsumeResult>
}
