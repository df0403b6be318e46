import type { ApiKey, Client, User } from '../core/types.js'

/**
 * The store: one interface per kind of record, implemented on SQLite and PostgreSQL.
 * Times are milliseconds since the epoch. Secrets and tokens arrive here only as digests.
 */

export interface ClientStore {
  getClient(id: string): Promise<Client | undefined>
  /** Fails with `DuplicateError` if the id exists. */
  insertClient(client: Client): Promise<void>
  updateClient(client: Client): Promise<void>
  /** Returns false when there was no such client. Its refresh families go with it. */
  deleteClient(id: string): Promise<boolean>
  listClients(page: { limit: number; after?: string }): Promise<Client[]>
}

export interface UserStore {
  getUserByUsername(username: string): Promise<User | undefined>
  getUser(id: string): Promise<User | undefined>
  insertUser(user: User): Promise<void>
  updateUser(user: User): Promise<void>
  deleteUser(id: string): Promise<boolean>
  listUsers(page: { limit: number; after?: string }): Promise<User[]>
}

export interface ApiKeyStore {
  getApiKey(id: string): Promise<ApiKey | undefined>
  insertApiKey(key: ApiKey): Promise<void>
  /**
   * Sets `revokedAt` and revokes the refresh families the key started, in one transaction;
   * returns false when there was no such key.
   */
  revokeApiKey(id: string, at: number): Promise<boolean>
  listApiKeys(page: { limit: number; after?: string; clientId?: string }): Promise<ApiKey[]>
}

export interface SigningKeyRecord {
  kid: string
  alg: 'ES256'
  /** Public JWK as JSON text. */
  publicJwk: string
  /** Private JWK, AES-256-GCM encrypted under the key-encryption key (see core/tokens/key-encryption.ts). */
  privateJwkEncrypted: string
  createdAt: number
  /** Set when a newer key took over; the key stays published until `retiredAt` + the longest token lifetime. */
  retiredAt: number | null
}

export interface SigningKeyStore {
  listSigningKeys(): Promise<SigningKeyRecord[]>
  /**
   * Adds `key` as the active key and retires every other active key at `key.createdAt`,
   * atomically, so two instances rotating at once still leave exactly one active key.
   */
  rotateSigningKey(key: SigningKeyRecord): Promise<void>
  /** Inserts `key` only if no key exists yet; returns whether it was inserted (first start of a cluster). */
  insertFirstSigningKey(key: SigningKeyRecord): Promise<boolean>
  deleteSigningKeysRetiredBefore(at: number): Promise<number>
}

export interface RefreshFamily {
  id: string
  clientId: string
  subject: string
  /** The family may not live past this, however often it is refreshed (absolute lifetime). */
  expiresAt: number
  revokedAt: number | null
  createdAt: number
  /** The API key whose exchange started the family; null for client-authenticated grants. */
  apiKeyId?: string | null
}

export interface RefreshTokenRecord {
  digest: string
  familyId: string
  clientId: string
  subject: string
  scope: string
  audience: string | null
  issuedAt: number
  expiresAt: number
  /** When it was exchanged for a successor; null while unused. */
  usedAt: number | null
}

export interface RefreshTokenWithFamily extends RefreshTokenRecord {
  family: RefreshFamily
}

export type ConsumeResult = 'consumed' | 'already-used'

export interface RefreshTokenStore {
  insertRefreshFamily(family: RefreshFamily, first: RefreshTokenRecord): Promise<void>
  findRefreshToken(digest: string): Promise<RefreshTokenWithFamily | undefined>
  /**
   * Marks the token used and stores its successor in one transaction. Exactly one of
   * several concurrent calls for the same token returns 'consumed'; the others return
   * 'already-used' and store nothing.
   */
  rotateRefreshToken(digest: string, at: number, successor: RefreshTokenRecord): Promise<ConsumeResult>
  /** Stores another token in a family (a retry inside the reuse interval). */
  insertRefreshToken(token: RefreshTokenRecord): Promise<void>
  /** Extends an unrotated token's expiry (sliding lifetime without rotation). */
  touchRefreshToken(digest: string, expiresAt: number): Promise<void>
  /** Revokes every token of the family (RFC 9700 §4.14). Idempotent. */
  revokeRefreshFamily(familyId: string, at: number): Promise<void>
}

export interface OpaqueTokenRecord {
  digest: string
  clientId: string
  subject: string
  scope: string
  audience: string
  familyId: string | null
  issuedAt: number
  expiresAt: number
  revokedAt: number | null
}

export interface AccessTokenStore {
  insertOpaqueToken(token: OpaqueTokenRecord): Promise<void>
  /** Null `familyRevokedAt` when the token has no family or the family stands. */
  findOpaqueToken(digest: string): Promise<(OpaqueTokenRecord & { familyRevokedAt: number | null }) | undefined>
  revokeOpaqueToken(digest: string, at: number): Promise<void>
  /** Remembers a revoked JWT until it would have expired anyway. */
  revokeJwt(jti: string, expiresAt: number): Promise<void>
  isJwtRevoked(jti: string): Promise<boolean>
}

/** One entry of the audit log: who did what to which record, when, from where. Never a secret. */
export interface AuditEvent {
  id: string
  /** Milliseconds since the epoch. */
  at: number
  /** `client:ID` (a token's client), `user:ID`, or `anonymous` for failed authentications. */
  actor: string
  /** Dotted verb, e.g. `client.created`, `client.authentication_failed`. */
  action: string
  /** The record acted on, e.g. `client:ID`; null when none. */
  target: string | null
  /** Source IP of the request, when it came over HTTP. */
  ip: string | null
  /** Non-secret details (changed field names, reasons). */
  details: Record<string, unknown>
}

export interface AuditEventFilter {
  limit: number
  actor?: string
  action?: string
  target?: string
  /** Inclusive lower bound of `at`. */
  from?: number
  /** Exclusive upper bound of `at`. */
  to?: number
  /** Keyset cursor: events strictly older than this one (newest first). */
  before?: { at: number; id: string }
}

export interface AuditStore {
  appendAuditEvent(event: AuditEvent): Promise<void>
  /** Appends several events in one statement (the background writer's batches). */
  appendAuditEvents(events: AuditEvent[]): Promise<void>
  /** Newest first; ties on `at` broken by id, so the cursor pages without gaps or repeats. */
  listAuditEvents(filter: AuditEventFilter): Promise<AuditEvent[]>
  /** Deletes up to `limit` of the events older than `at` (retention); returns how many went. */
  deleteAuditEventsBefore(at: number, limit: number): Promise<number>
}

/** Which user owns a client created in the developer console (a separate table: clients stay owner-less). */
export interface ConsoleApp {
  clientId: string
  ownerUserId: string
  /** What the console created: a client with a secret, or a client used through one API key. */
  kind: 'client' | 'api_key'
  apiKeyId: string | null
  createdAt: number
}

export interface ConsoleAppStore {
  insertConsoleApp(app: ConsoleApp): Promise<void>
  getConsoleApp(clientId: string): Promise<ConsoleApp | undefined>
  listConsoleApps(ownerUserId: string): Promise<ConsoleApp[]>
  deleteConsoleApp(clientId: string): Promise<boolean>
}

export interface HousekeepingStore {
  /** Deletes up to `limit` expired rows of each kind; returns how many went. */
  deleteExpired(now: number, limit: number): Promise<number>
}

export interface Store
  extends ClientStore,
    UserStore,
    ApiKeyStore,
    SigningKeyStore,
    RefreshTokenStore,
    AccessTokenStore,
    AuditStore,
    ConsoleAppStore,
    HousekeepingStore {
  readonly kind: 'sqlite' | 'postgres'
  /** Applies pending migrations; returns the names it applied. */
  migrate(): Promise<string[]>
  /** Resolves when the database answers; rejects otherwise. */
  ping(): Promise<void>
  close(): Promise<void>
}

export class DuplicateError extends Error {
  constructor(what: string) {
    super(`${what} already exists`)
    this.name = 'DuplicateError'
  }
}

/** Thrown when the database cannot be reached; dialects answer `temporarily_unavailable`. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('store unavailable', { cause })
    this.name = 'StoreUnavailableError'
  }
}
