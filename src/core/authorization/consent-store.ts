/**
 * A user's consent to a client (OpenID Connect Core §3.1.2.4): the scopes they allowed it,
 * remembered until revoked, so the consent page is shown again only for scopes not yet allowed.
 */
export interface ConsentRecord {
  userId: string
  clientId: string
  /** Allowed scopes, space-delimited. */
  scope: string
  createdAt: number
  updatedAt: number
}

/** Port: consents, one per (user, client). The core owns it; the store (src/store) implements it. */
export interface ConsentStore {
  getConsent(userId: string, clientId: string): Promise<ConsentRecord | undefined>
  /** Inserts or replaces the consent of (userId, clientId). */
  putConsent(consent: ConsentRecord): Promise<void>
  /** Returns false when there was none. */
  deleteConsent(userId: string, clientId: string): Promise<boolean>
  /** Every consent of a user, newest first. */
  listConsents(userId: string): Promise<ConsentRecord[]>
}
