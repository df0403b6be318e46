/**
 * A person's sign-in session at Gatehouse's hosted pages: one per browser, shared by every
 * client (single sign-on). The cookie holds a random secret; the store keeps its digest, so a
 * database reader cannot ride a session. Server-side, so it can be ended from anywhere
 * (sign-out, "sign out everywhere", password change, disabling the user).
 */
export interface SignInSessionRecord {
  /** Public, random: the ID token's `sid` (OpenID Connect Front-/Back-Channel Logout). */
  id: string
  /** SHA-256 (hex) of the cookie's secret. */
  digest: string
  userId: string
  /** When the user entered their password (ms): `auth_time`, and what `max_age` compares with. */
  authTime: number
  createdAt: number
  /** Last use (ms); the session ends after the idle lifetime without one. */
  lastSeenAt: number
  /** The absolute end (ms), however active it is. */
  expiresAt: number
  endedAt: number | null
}

/** Which sessions to end: one, or every session of a user. */
export type SignInSessionSelector = { id: string } | { userId: string }

/** Port: sign-in sessions. The core owns it; the store (src/store) implements it. */
export interface SignInSessionStore {
  insertSignInSession(session: SignInSessionRecord): Promise<void>
  /** By the digest of the cookie secret; ended and expired sessions are returned too (the core decides). */
  findSignInSession(digest: string): Promise<SignInSessionRecord | undefined>
  /** Records a use (idle lifetime). */
  touchSignInSession(id: string, lastSeenAt: number): Promise<void>
  /** Ends every live session the selector matches; returns how many. */
  endSignInSessions(selector: SignInSessionSelector, at: number): Promise<number>
}
