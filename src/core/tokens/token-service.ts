import type { AccessTokenStore, RefreshTokenRecord, RefreshTokenStore } from './token-store.js'
import { toSeconds, type Clock } from '../clock.js'
import { digestSecret } from '../credentials/secrets.js'
import type { Random } from '../random.js'
import type { Client } from '../types.js'
import { signAccessToken } from './jwt-access-token.js'
import type { KeyRing } from './key-ring.js'
import { generateOpaqueToken } from './opaque-token.js'
import { generateRefreshToken, refreshTokenKey } from './refresh-token-format.js'
import { timeOrderedUuid } from '../ids.js'

export interface AccessTokenGrant {
  client: Client
  subject: string
  scopes: string[]
  /** Refresh family the token descends from, so revoking the family reaches opaque tokens too. */
  familyId?: string | null
  /** The `aud` decided by resolveAudience (RFC 8707); default the client's audience, else the issuer. */
  audience?: string
}

export interface IssuedAccessToken {
  token: string
  expiresIn: number
}

export interface IssuedRefreshToken {
  token: string
  record: RefreshTokenRecord
}

type Deps = {
  keys: KeyRing
  store: AccessTokenStore & RefreshTokenStore
  clock: Clock
  random: Random
  issuer: string
}

/** Mints access and refresh tokens in the client's chosen format. The only place tokens are made. */
export class TokenService {
  readonly #deps: Deps

  constructor(deps: Deps) {
    this.#deps = deps
  }

  get issuer(): string {
    return this.#deps.issuer
  }

  async issueAccessToken(grant: AccessTokenGrant): Promise<IssuedAccessToken> {
    const { client } = grant
    const now = this.#deps.clock.now()
    const expiresIn = client.accessTokenTtl
    const scope = grant.scopes.join(' ')
    const audience = grant.audience ?? client.audience ?? this.#deps.issuer
    if (client.tokenFormat === 'opaque') {
      const token = generateOpaqueToken(this.#deps.random)
      await this.#deps.store.insertOpaqueToken({
        digest: digestSecret(token),
        clientId: client.id,
        subject: grant.subject,
        scope,
        audience,
        familyId: grant.familyId ?? null,
        issuedAt: now,
        expiresAt: now + expiresIn * 1000,
        revokedAt: null,
      })
      return { token, expiresIn }
    }
    const iat = toSeconds(now)
    // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti are required; scope per §2.2.3.
    const token = signAccessToken(this.#deps.keys, {
      iss: this.#deps.issuer,
      sub: grant.subject,
      aud: audience,
      exp: iat + expiresIn,
      iat,
      jti: this.#deps.random.bytes(16).toString('base64url'),
      client_id: client.id,
      scope,
    })
    return { token, expiresIn }
  }

  /** A new refresh token record (not yet stored) for a family. */
  newRefreshToken(input: {
    client: Client
    familyId: string
    familyExpiresAt: number
    subject: string
    scopes: string[]
    /** The audience of the grant, kept so that refreshed access tokens keep it. */
    audience?: string | null
  }): IssuedRefreshToken {
    const now = this.#deps.clock.now()
    const token = generateRefreshToken(this.#deps.random, now)
    // Sliding lifetime, capped by the family's absolute lifetime.
    const expiresAt = Math.min(input.familyExpiresAt, now + input.client.refreshTokenSlidingTtl * 1000)
    return {
      token,
      record: {
        digest: refreshTokenKey(token),
        familyId: input.familyId,
        clientId: input.client.id,
        subject: input.subject,
        scope: input.scopes.join(' '),
        audience: input.audience ?? input.client.audience,
        issuedAt: now,
        expiresAt,
        usedAt: null,
      },
    }
  }

  /**
   * Starts a refresh family (first issue after a password or API key grant). `apiKeyId` names
   * the key an api_key exchange used, so that revoking the key ends the family.
   */
  async issueRefreshToken(client: Client, subject: string, scopes: string[], apiKeyId: string | null = null, audience?: string): Promise<IssuedRefreshToken> {
    const now = this.#deps.clock.now()
    const family = {
      id: timeOrderedUuid(this.#deps.random, now),
      clientId: client.id,
      subject,
      expiresAt: now + client.refreshTokenAbsoluteTtl * 1000,
      revokedAt: null,
      createdAt: now,
      apiKeyId,
    }
    const issued = this.newRefreshToken({ client, familyId: family.id, familyExpiresAt: family.expiresAt, subject, scopes, audience: audience ?? null })
    await this.#deps.store.insertRefreshFamily(family, issued.record)
    return issued
  }
}
