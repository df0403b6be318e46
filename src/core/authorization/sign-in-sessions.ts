import type { Clock } from '../clock.js'
import { digestSecret } from '../credentials/secrets.js'
import type { UserStore } from '../credentials/user-store.js'
import type { Random } from '../random.js'
import type { User } from '../types.js'
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

/** Writing `lastSeenAt` on every page would be a write per request; within a minute it is close enough. */
const TOUCH_INTERVAL_MS = 60_000

/**
 * Sign-in sessions of the hosted pages: started by the sign-in form, carried by a cookie that
 * holds a 256-bit secret, and kept server-side (only the digest), so every instance honours a
 * session another one started, and ending one (sign-out, "sign out everywhere", a disabled
 * user, a new password) takes effect everywhere at once.
 */
export class SignInSessions {
  readonly #deps: { store: SignInSessionStore; users: Pick<UserStore, 'getUser'>; clock: Clock; random: Random }
  readonly #lifetimes: SignInSessionLifetimes

  constructor(deps: { store: SignInSessionStore; users: Pick<UserStore, 'getUser'>; clock: Clock; random: Random }, lifetimes: SignInSessionLifetimes) {
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
