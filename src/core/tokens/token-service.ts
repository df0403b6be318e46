import { createHmac } from 'node:crypto'
import type { AccessTokenStore, GrantRecord, GrantStore, GrantSubjectType, RefreshTokenRecord, RefreshTokenStore } from './token-store.js'
import { toSeconds, type Clock } from '../clock.js'
import { digestSecret } from '../credentials/secrets.js'
import type { Random } from '../random.js'
import type { ActorClaim, Client } from '../types.js'
import { signAccessToken, type AccessTokenClaims } from './jwt-access-token.js'
import type { KeyRing } from './key-ring.js'
import { generateOpaqueToken } from './opaque-token.js'
import { deriveRefreshToken, generateRefreshToken, refreshTokenKey } from './refresh-token-format.js'
import { timeOrderedUuid } from '../ids.js'
import { accessTokenHash, signIdToken, type IdTokenClaims } from './id-token.js'

/** What an ID token says about a sign-in (OpenID Connect Core §2). */
export interface IdTokenInput {
  client: Client
  subject: string
  /** When the user entered their password (ms). */
  authTime: number
  nonce?: string | null
  sessionId?: string
  /** The access token issued beside it, for `at_hash` (Core §3.1.3.6). */
  accessToken?: string
  /** Core §5.4 claims the granted scopes allow. */
  claims?: Pick<IdTokenClaims, 'name' | 'email'>
}

export interface AccessTokenGrant {
  client: Client
  subject: string
  scopes: string[]
  /** The grant the token is minted from (none for client_credentials): ending the grant ends the token. */
  grantId?: string | null
  /** The `aud` the grant decided (RFC 8707 resolveAudience, or the admin audience for an operator); default the client's, else the issuer. */
  audience?: string
  /** RFC 9449 §6: the key thumbprint the token is bound to (`cnf.jkt`). */
  dpopJkt?: string
  /** RFC 8693 §4.1: the actor of a token exchange. */
  act?: ActorClaim
  /** Seconds since the epoch it may not outlive (a token exchange's subject token's `exp`). */
  expiresAtMost?: number
}

/** What starts a grant: who, for which client, through which grant type, with which scopes. */
export interface NewGrant {
  client: Client
  subject: string
  subjectType: GrantSubjectType
  grantType: string
  scopes: string[]
  /** The API key whose exchange starts it. */
  apiKeyId?: string | null
  /** The audience granted, when the grant decided one (default: the client's). */
  audience?: string
  /** RFC 8707: every resource granted (the first is `audience`); its refreshes may ask for any of them. */
  resources?: string[]
  /** Whether the grant gets a refresh token (a family); without one it lives as long as its access token. */
  withRefreshToken: boolean
  /** RFC 9449 §5: the key thumbprint its refresh tokens are bound to (public clients). */
  dpopJkt?: string
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
  store: AccessTokenStore & RefreshTokenStore & Pick<GrantStore, 'insertGrant'>
  /** Where opaque access tokens go, when not straight to `store` (the introspection cache, CachedAccessTokens). */
  opaqueTokens?: Pick<AccessTokenStore, 'insertOpaqueToken'>
  clock: Clock
  random: Random
  issuer: string
  /**
   * HMAC key for refresh-token successors (see `successorOf`); every instance must share it,
   * so it is derived from GATEHOUSE_SECRET. Random per process when omitted (tests).
   */
  successorKey?: Buffer
}

/** Mints access and refresh tokens in the client's chosen format. The only place tokens are made. */
export class TokenService {
  readonly #deps: Deps

  readonly #successorKey: Buffer

  constructor(deps: Deps) {
    this.#deps = deps
    this.#successorKey = deps.successorKey ?? deps.random.bytes(32)
  }

  get issuer(): string {
    return this.#deps.issuer
  }

  async issueAccessToken(grant: AccessTokenGrant): Promise<IssuedAccessToken> {
    const { client } = grant
    const now = this.#deps.clock.now()
    const expiresIn = grant.expiresAtMost === undefined ? client.accessTokenTtl : Math.max(1, Math.min(client.accessTokenTtl, grant.expiresAtMost - Math.ceil(now / 1000)))
    const scope = grant.scopes.join(' ')
    const audience = grant.audience ?? client.audience ?? this.#deps.issuer
    if (client.tokenFormat === 'opaque') {
      const token = generateOpaqueToken(this.#deps.random)
      // Answered only once committed (group commit: one write for the requests of this tick).
      await (this.#deps.opaqueTokens ?? this.#deps.store).insertOpaqueToken({
        digest: digestSecret(token),
        clientId: client.id,
        subject: grant.subject,
        scope,
        audience,
        grantId: grant.grantId ?? null,
        issuedAt: now,
        expiresAt: now + expiresIn * 1000,
        revokedAt: null,
        ...(grant.dpopJkt !== undefined ? { dpopJkt: grant.dpopJkt } : {}),
        ...(grant.act !== undefined ? { act: grant.act } : {}),
      })
      return { token, expiresIn }
    }
    const iat = toSeconds(now)
    // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti are required; scope per §2.2.3.
    // `gid` names the grant, so introspection can tell when the grant has ended.
    const claims: AccessTokenClaims = {
      iss: this.#deps.issuer,
      sub: grant.subject,
      aud: audience,
      exp: iat + expiresIn,
      iat,
      jti: this.#deps.random.bytes(16).toString('base64url'),
      client_id: client.id,
    }
    if (scope !== '') claims.scope = scope
    if (grant.grantId) claims.gid = grant.grantId
    if (grant.dpopJkt !== undefined) claims.cnf = { jkt: grant.dpopJkt }
    if (grant.act !== undefined) claims.act = grant.act
    const token = signAccessToken(this.#deps.keys, claims, client.signingAlg)
    return { token, expiresIn }
  }

  /**
   * An ID token for the client (OpenID Connect Core §3.1.3.3), signed with the client's
   * algorithm; it lives as long as the client's access tokens. It is not a credential for any
   * API: its `typ` is JWT, which no access-token check accepts.
   */
  issueIdToken(input: IdTokenInput): string {
    const iat = toSeconds(this.#deps.clock.now())
    const claims: IdTokenClaims = {
      iss: this.#deps.issuer,
      sub: input.subject,
      aud: input.client.id,
      exp: iat + input.client.accessTokenTtl,
      iat,
      auth_time: toSeconds(input.authTime),
      ...(input.nonce ? { nonce: input.nonce } : {}),
      ...(input.accessToken !== undefined ? { at_hash: accessTokenHash(input.accessToken) } : {}),
      ...(input.sessionId !== undefined ? { sid: input.sessionId } : {}),
      ...input.claims,
    }
    return signIdToken(this.#deps.keys, claims, input.client.signingAlg)
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
    return { token, record: this.#refreshRecord(token, input.client, input.familyId, input.familyExpiresAt, input.subject, input.scopes.join(' '), input.audience ?? input.client.audience, now) }
  }

  #refreshRecord(token: string, client: Client, familyId: string, familyExpiresAt: number, subject: string, scope: string, audience: string | null, now: number): RefreshTokenRecord {
    return {
      digest: refreshTokenKey(token),
      familyId,
      clientId: client.id,
      subject,
      scope,
      audience,
      issuedAt: now,
      // Sliding lifetime, capped by the grant's absolute lifetime.
      expiresAt: Math.min(familyExpiresAt, now + client.refreshTokenSlidingTtl * 1000),
      usedAt: null,
    }
  }

  /**
   * The successor of a refresh token rotated at `usedAt`: derived, not drawn, from the presented
   * token (HMAC under a server key), so a retry inside the reuse interval is answered with the
   * very successor the first exchange stored (an idempotent retry), never a second live chain.
   * Only the server can derive it: the key never leaves it.
   */
  successorOf(presented: string, input: { client: Client; familyId: string; familyExpiresAt: number; subject: string; scope: string; audience: string | null; usedAt: number }): IssuedRefreshToken {
    const token = deriveRefreshToken(createHmac('sha256', this.#successorKey).update(presented).digest(), input.usedAt)
    return { token, record: this.#refreshRecord(token, input.client, input.familyId, input.familyExpiresAt, input.subject, input.scope, input.audience, input.usedAt) }
  }

  /**
   * Starts a grant (RFC 6749 §1.3) and, with `withRefreshToken`, its refresh family's first
   * token, in one write. A grant without refresh tokens lives as long as its access token.
   */
  async startGrant(input: NewGrant): Promise<{ grant: GrantRecord; refresh?: IssuedRefreshToken }> {
    const now = this.#deps.clock.now()
    const { client } = input
    const grant: GrantRecord = {
      id: timeOrderedUuid(this.#deps.random, now),
      clientId: client.id,
      subject: input.subject,
      subjectType: input.subjectType,
      grantType: input.grantType,
      scope: input.scopes.join(' '),
      audience: input.audience ?? client.audience,
      apiKeyId: input.apiKeyId ?? null,
      createdAt: now,
      expiresAt: now + (input.withRefreshToken ? client.refreshTokenAbsoluteTtl : client.accessTokenTtl) * 1000,
      revokedAt: null,
      revokedReason: null,
      ...(input.dpopJkt !== undefined ? { dpopJkt: input.dpopJkt } : {}),
      ...(input.resources !== undefined && input.resources.length > 0 ? { resources: input.resources } : {}),
    }
    if (!input.withRefreshToken) {
      await this.#deps.store.insertGrant(grant)
      return { grant }
    }
    const refresh = this.newRefreshToken({ client, familyId: grant.id, familyExpiresAt: grant.expiresAt, subject: input.subject, scopes: input.scopes, audience: grant.audience })
    await this.#deps.store.insertGrant(grant, refresh.record)
    return { grant, refresh }
  }
}
