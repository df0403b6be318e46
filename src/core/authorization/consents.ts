import type { Clock } from '../clock.js'
import { endGrants } from '../grant-ending.js'
import type { GrantStore } from '../tokens/token-store.js'
import type { ConsentRecord, ConsentStore } from './consent-store.js'

const scopesOf = (consent: ConsentRecord | undefined): string[] => (consent === undefined || consent.scope === '' ? [] : consent.scope.split(' '))

/**
 * Consent (OpenID Connect Core §3.1.2.4): what a user allowed a client, remembered per (user,
 * client) until revoked. Revoking it ends the grants the client holds for the user, so its
 * refresh tokens and access tokens stop at once (RFC 7009 §2.1's intent, for a person).
 */
export class Consents {
  readonly #deps: { store: ConsentStore; grants: Pick<GrantStore, 'endGrants'>; clock: Clock }

  constructor(deps: { store: ConsentStore; grants: Pick<GrantStore, 'endGrants'>; clock: Clock }) {
    this.#deps = deps
  }

  /** Whether the user must be asked: they never allowed this client, or not every one of these scopes. */
  async needed(userId: string, clientId: string, scopes: readonly string[]): Promise<boolean> {
    const consent = await this.#deps.store.getConsent(userId, clientId)
    if (consent === undefined) return true
    const allowed = new Set(scopesOf(consent))
    return scopes.some((scope) => !allowed.has(scope))
  }

  /** Remembers that the user allowed these scopes, added to what they allowed before. */
  async remember(userId: string, clientId: string, scopes: readonly string[]): Promise<void> {
    const now = this.#deps.clock.now()
    const current = await this.#deps.store.getConsent(userId, clientId)
    const scope = [...new Set([...scopesOf(current), ...scopes])].join(' ')
    await this.#deps.store.putConsent({ userId, clientId, scope, createdAt: current?.createdAt ?? now, updatedAt: now })
  }

  list(userId: string): Promise<ConsentRecord[]> {
    return this.#deps.store.listConsents(userId)
  }

  /** Forgets the consent and ends the client's grants for the user; false when there was no consent. */
  async revoke(userId: string, clientId: string): Promise<boolean> {
    const deleted = await this.#deps.store.deleteConsent(userId, clientId)
    await endGrants({ grants: this.#deps.grants, clock: this.#deps.clock }, { subject: userId, clientId }, 'consent_revoked')
    return deleted
  }
}
