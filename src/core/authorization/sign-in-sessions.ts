import type { Clock } from '../clock.js'
import { digestSecret } from '../credentials/secrets.js'
import type { UserStore } from '../credentials/user-store.js'
import type { Random } from '../random.js'
import type { User } from '../types.js'
import type { AbuseGuard } from '../abuse/abuse-guard.js'
import type { AuditLog } from '../audit/audit-log.js'
import { OAuthError } from '../errors.js'
import { checkUserCredentials } from '../grants/password.js'

/** How a password sign-in on a hosted page ended: a new session, or why not (the page's status). */
export type PasswordSignIn =
  | { ok: true; user: User; session: SignInSessionRecord; cookie: string }
  | { ok: false; status: 401 | 429 | 503; retryAfter?: number }
import type { SignInSessionRecord, SignInSessionStore } from './sign-in-session-store.js'

export interface SignInSessionLifetimes {
  /** Ends this long after the last use (ms). */
  idleMs: number
  /** Ends this long after sign-in, however active (ms). */
  absoluteMs: number
}

/** A live session and the user it is for (who is neither disabled nor deleted). */
export interface LiveSession {
  session: SignInSessionRecord
  user: User
}

type SignInSessionDeps = {
  store: SignInSessionStore
  users: Pick<UserStore, 'getUser' | 'getUserByUsername'>
  clock: Clock
  random: Random
  /** The password grant's throttle, lockout and argon2 queue (none in tests that omit it). */
  guard?: AbuseGuard
  /** Failed sign-ins are audited (not when omitted). */
  audit?: Pick<AuditLog, 'note'>
}

/** Writing `lastSeenAt` on every page would be a write per request; within a minute it is close enough. */
const TOUCH_INTERVAL_MS = 60_000

/**
 * Sign-in sessions of the hosted pages: started by the sign-in form, carried by a cookie that
 * holds a 256-bit secret, and kept server-side (only the digest), so every instance honours a
 * session another one started, and ending one (sign-out, "sign out everywhere", a disabled
 * user, a new password) takes effect everywhere at once.
 */
export class SignInSessions {
  readonly #deps: SignInSessionDeps
  readonly #lifetimes: SignInSessionLifetimes

  constructor(deps: SignInSessionDeps, lifetimes: SignInSessionLifetimes) {
    this.#deps = deps
    this.#lifetimes = lifetimes
  }

  get lifetimes(): SignInSessionLifetimes {
    return this.#lifetimes
  }

  /** Starts a session for a user who has just entered their password; returns the cookie value. */
  async start(user: User): Promise<{ cookie: string; session: SignInSessionRecord }> {
    const now = this.#deps.clock.now()
    const cookie = this.#deps.random.bytes(32).toString('base64url')
    const session: SignInSessionRecord = {
      id: this.#deps.random.bytes(16).toString('base64url'),
      digest: digestSecret(cookie),
      userId: user.id,
      authTime: now,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.#lifetimes.absoluteMs,
      endedAt: null,
    }
    await this.#deps.store.insertSignInSession(session)
    return { cookie, session }
  }

  /**
   * A person enters their password on a hosted page (sign-in, device): the password grant's own
   * check — the same argon2 queue, throttle and lockout — then a new session, ending the one the
   * browser had (a browser holds one). A wrong password is audited; a full queue or a rate limit
   * says so (503, 429). Other errors are thrown.
   */
  async signInWithPassword(
    attempt: { username: string; password: string; source: string; via: string; clientId: string; previousCookie: string | undefined },
  ): Promise<PasswordSignIn> {
    let user: User
    try {
      user = await checkUserCredentials(this.#deps.users, attempt.username, attempt.password, this.#deps.guard, attempt.source)
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error
      if (error.code === 'invalid_grant') {
        this.#deps.audit?.note({ actor: 'anonymous', action: 'user.authentication_failed', target: `user:${attempt.username.trim().toLowerCase()}`, ip: attempt.source, details: { reason: error.debug ?? 'invalid credentials', via: attempt.via, client_id: attempt.clientId } })
        return { ok: false, status: 401 }
      }
      if (error.code === 'temporarily_unavailable' || error.code === 'rate_limited') return { ok: false, status: error.code === 'rate_limited' ? 429 : 503, retryAfter: error.retryAfter ?? 1 }
      throw error
    }
    await this.endByCookie(attempt.previousCookie)
    const { cookie, session } = await this.start(user)
    return { ok: true, user, session, cookie }
  }

  /** The live session a cookie names, or undefined (none, unknown, ended, idle too long, expired, or its user disabled or gone). */
  async resume(cookie: string | undefined): Promise<LiveSession | undefined> {
    if (cookie === undefined || cookie === '' || cookie.length > 100) return undefined
    const session = await this.#deps.store.findSignInSession(digestSecret(cookie))
    const now = this.#deps.clock.now()
    if (!session || session.endedAt !== null || session.expiresAt <= now || session.lastSeenAt + this.#lifetimes.idleMs <= now) return undefined
    const user = await this.#deps.users.getUser(session.userId)
    if (!user || user.disabled) return undefined
    if (now - session.lastSeenAt >= TOUCH_INTERVAL_MS) {
      await this.#deps.store.touchSignInSession(session.id, now)
      session.lastSeenAt = now
    }
    return { session, user }
  }

  /** Ends the session a cookie names (sign-out); true when there was a live one. */
  async endByCookie(cookie: string | undefined): Promise<SignInSessionRecord | undefined> {
    if (cookie === undefined || cookie === '' || cookie.length > 100) return undefined
    const session = await this.#deps.store.findSignInSession(digestSecret(cookie))
    if (!session || session.endedAt !== null) return undefined
    await this.#deps.store.endSignInSessions({ id: session.id }, this.#deps.clock.now())
    return session
  }

  /** Ends every session of a user ("sign out everywhere", password change, disabling). */
  endForUser(userId: string): Promise<number> {
    return this.#deps.store.endSignInSessions({ userId }, this.#deps.clock.now())
  }
}
