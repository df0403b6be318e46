import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Console sessions are signed cookies (HMAC-SHA-256 under a key derived from the
 * GATEHOUSE_SECRET), so every instance of a cluster accepts them and no session table is
 * needed. Two things end one early: signing out puts its nonce on the deny list (ConsoleApps.signOut), and a
 * new password no longer matches the credential fingerprint the session carries. The CSRF token is a second HMAC over the session's nonce: a synchroniser token the
 * server can recompute, which a cross-site page can neither read nor forge.
 */
export interface Session {
  userId: string
  expiresAt: number
  nonce: string
  /** A MAC of the user's password hash at sign-in: a new password ends every console session (see `credentialFingerprint`). */
  credential: string
  /**
   * The secret of the server-side sign-in session started with it (core SignInSessions): the
   * console session lives only as long as that one, so "sign out everywhere", an operator's
   * end-sessions, disabling the user or a new password end it on every instance.
   */
  signIn: string
}

export const SESSION_COOKIE = 'gatehouse_console'
export const LOGIN_COOKIE = 'gatehouse_console_login'
export const SESSION_TTL_MS = 8 * 3600 * 1000
/** How long a sign-in form (its nonce) may be posted. */
export const LOGIN_FORM_TTL_MS = 3600 * 1000

/**
 * Sign-in nonces are good for one attempt: a posted nonce is remembered until its form would
 * have expired anyway, so one form cannot carry a flood of password guesses (each costs an
 * argon2 check). Per process and bounded: past `capacity` the oldest entry (the one closest to
 * expiry) goes first.
 */
export class OneTimeNonces {
  readonly #used = new Map<string, number>()
  readonly #capacity: number

  constructor(capacity = 100_000) {
    this.#capacity = capacity
  }

  /** True the first time `nonce` is presented before `expiresAt`; false after that. */
  consume(nonce: string, expiresAt: number, now: number): boolean {
    if (expiresAt <= now || this.#used.has(nonce)) return false
    for (const [old, until] of this.#used) {
      if (until > now && this.#used.size < this.#capacity) break
      this.#used.delete(old)
    }
    this.#used.set(nonce, expiresAt)
    return true
  }
}

export class SessionKeys {
  readonly #key: Buffer

  /** `purpose` separates the keys of the console's cookies from those of the hosted sign-in pages. */
  constructor(secret: string, purpose = 'console session cookies v1') {
    this.#key = Buffer.from(hkdfSync('sha256', secret, 'gatehouse', purpose, 32))
  }

  #mac(text: string): string {
    return createHmac('sha256', this.#key).update(text).digest('base64url')
  }

  #same(a: string, b: string): boolean {
    const left = Buffer.from(a)
    const right = Buffer.from(b)
    return left.length === right.length && timingSafeEqual(left, right)
  }

  newNonce(): string {
    return randomBytes(16).toString('base64url')
  }

  seal(session: Session): string {
    const payload = Buffer.from(JSON.stringify(session)).toString('base64url')
    return `${payload}.${this.#mac(`session.${payload}`)}`
  }

  /** Undefined for a missing, forged or expired cookie. */
  open(cookie: string | undefined, now: number): Session | undefined {
    if (!cookie) return undefined
    const [payload, mac, extra] = cookie.split('.')
    if (!payload || !mac || extra !== undefined || !this.#same(mac, this.#mac(`session.${payload}`))) return undefined
    try {
      const session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<Session>
      if (typeof session.userId !== 'string' || typeof session.expiresAt !== 'number' || typeof session.nonce !== 'string' || typeof session.credential !== 'string' || typeof session.signIn !== 'string') return undefined
      return session.expiresAt > now ? { userId: session.userId, expiresAt: session.expiresAt, nonce: session.nonce, credential: session.credential, signIn: session.signIn } : undefined
    } catch {
      return undefined
    }
  }

  /**
   * What a session remembers of the user's credential: a MAC of the password hash. A session is
   * good only while it matches, so setting a new password (CLI, management API) ends every
   * console session of the user on every instance, with no session table.
   */
  credentialFingerprint(userId: string, passwordHash: string): string {
    return this.#mac(`credential.${userId}.${passwordHash}`)
  }

  /** Whether a session's fingerprint is the one of this password hash (constant time). */
  sameCredential(session: Session, passwordHash: string): boolean {
    return this.#same(session.credential, this.credentialFingerprint(session.userId, passwordHash))
  }

  /** The CSRF token of a session (or of a login form's nonce). */
  csrfToken(nonce: string): string {
    return this.#mac(`csrf.${nonce}`)
  }

  checkCsrf(nonce: string | undefined, presented: unknown): boolean {
    return nonce !== undefined && typeof presented === 'string' && this.#same(presented, this.csrfToken(nonce))
  }

  /** The login form's nonce cookie with its expiry, signed so it cannot be planted by another site. */
  sealNonce(nonce: string, expiresAt: number): string {
    return `${nonce}.${expiresAt}.${this.#mac(`login.${nonce}.${expiresAt}`)}`
  }

  /** The nonce and its expiry; undefined for a missing, forged or expired cookie. */
  openNonce(cookie: string | undefined, now: number): { nonce: string; expiresAt: number } | undefined {
    if (!cookie) return undefined
    const [nonce, expiry, mac, extra] = cookie.split('.')
    if (!nonce || !expiry || !mac || extra !== undefined || !this.#same(mac, this.#mac(`login.${nonce}.${expiry}`))) return undefined
    const expiresAt = Number(expiry)
    return expiresAt > now ? { nonce, expiresAt } : undefined
  }
}
