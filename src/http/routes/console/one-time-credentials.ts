import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import type { Credentials } from '../../../core/admin/console-apps.js'
import type { AssertionJtiStore } from '../../../core/credentials/assertion-jti-store.js'

/**
 * Post/Redirect/Get for Generate and Rotate: the POST answers 303 to
 * /console/apps/{id}/credentials, and the new credentials wait for that one GET in a short-lived
 * cookie, encrypted (AES-256-GCM under a key derived from GATEHOUSE_SECRET) and bound to the
 * console session that made them (its nonce is the associated data). So:
 *
 * - no instance keeps anything: a cluster behind a load balancer shows it wherever the GET lands;
 * - the secret is never in a URL, a log or a cookie in clear, and only this browser's session can
 *   open it (another session's nonce fails the GCM tag);
 * - it is shown once: the first GET clears the cookie and records the cookie's id in the store
 *   (the assertion-jti table's insert-if-absent, atomic on every instance), so a copy of the
 *   cookie replayed, even concurrently, is refused.
 */
export const CREDENTIALS_COOKIE = 'gatehouse_console_credentials'
/** How long the new credentials wait for their page. */
export const CREDENTIALS_TTL_MS = 5 * 60 * 1000

/** The cookie's path: sent only to the one page that shows it. */
export const credentialsPath = (clientId: string): string => `/console/apps/${encodeURIComponent(clientId)}/credentials`

interface Sealed {
  id: string
  clientId: string
  rotated: boolean
  expiresAt: number
  credentials: Credentials
}

/** Marks a cookie id as shown; kept under a prefix no client assertion's jti has. */
const SHOWN_PREFIX = 'console-credentials-shown:'

export class OneTimeCredentials {
  readonly #key: Buffer
  readonly #shown: AssertionJtiStore

  constructor(secret: string, shown: AssertionJtiStore) {
    this.#key = Buffer.from(hkdfSync('sha256', secret, 'gatehouse', 'console one-time credentials v1', 32))
    this.#shown = shown
  }

  /** The cookie value for `credentials`, readable only with the session's nonce until `now + CREDENTIALS_TTL_MS`. */
  seal(sessionNonce: string, credentials: Credentials, rotated: boolean, now: number): string {
    const sealed: Sealed = { id: randomBytes(16).toString('base64url'), clientId: credentials.clientId, rotated, expiresAt: now + CREDENTIALS_TTL_MS, credentials }
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    cipher.setAAD(Buffer.from(`credentials.${sessionNonce}`, 'utf8'))
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(sealed), 'utf8'), cipher.final()])
    return [iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.')
  }

  /**
   * The credentials, the first time this cookie is opened by its own session for its client
   * before it expires; undefined for a missing, foreign, altered, expired or already shown one.
   */
  async take(cookie: string | undefined, sessionNonce: string, clientId: string, now: number): Promise<{ credentials: Credentials; rotated: boolean } | undefined> {
    const sealed = this.#open(cookie, sessionNonce)
    if (!sealed || sealed.clientId !== clientId || sealed.expiresAt <= now) return undefined
    if (!(await this.#shown.rememberAssertionJti(clientId, `${SHOWN_PREFIX}${sealed.id}`, sealed.expiresAt, now))) return undefined
    return { credentials: sealed.credentials, rotated: sealed.rotated }
  }

  #open(cookie: string | undefined, sessionNonce: string): Sealed | undefined {
    const [iv, tag, ciphertext, extra] = (cookie ?? '').split('.')
    if (!iv || !tag || !ciphertext || extra !== undefined) return undefined
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'))
      decipher.setAAD(Buffer.from(`credentials.${sessionNonce}`, 'utf8'))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      const sealed = JSON.parse(Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8')) as Sealed
      return typeof sealed.id === 'string' && typeof sealed.clientId === 'string' && typeof sealed.expiresAt === 'number' ? sealed : undefined
    } catch {
      // Another session's cookie, or an altered one: the tag does not verify.
      return undefined
    }
  }
}
