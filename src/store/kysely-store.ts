import { Kysely, Migrator, sql, type CompiledQuery, type MigrationProvider, type Migration, type Transaction } from 'kysely'
import { APPLICATION_TYPES, type ActorClaim, type ApiKey, type ApplicationType, type Client, type ClientAuthMethod, type ClientJwks, type GrantType, type SigningAlg, type TokenFormat, type User } from '../core/types.js'
import { migrations } from './migrations/index.js'
import type {
  ApiKeysTable,
  AuthorizationCodesTable,
  ClientsTable,
  ConsentsTable,
  ConsoleAppsTable,
  Database,
  ApiScopesTable,
  ApisTable,
  DeviceAuthorizationsTable,
  GrantsTable,
  OperatorsTable,
  PushedRequestsTable,
  OpaqueTokensTable,
  RefreshTokensTable,
  SignInSessionsTable,
  UsersTable,
} from './schema.js'
import { DuplicateError } from '../core/store-errors.js'
import type { AuditEvent, AuditEventFilter } from '../core/audit/audit-store.js'
import type { ConsoleApp } from '../core/admin/console-app-store.js'
import type { ClientUsage, ClientUsageIncrement } from '../core/audit/client-usage-store.js'
import type { OperatorKind, OperatorRecord } from '../core/admin/operator-store.js'
import type { Api } from '../core/apis/api-store.js'
import type { ConsumeResult, GrantEndReason, GrantRecord, GrantSelector, GrantSubjectType, OpaqueTokenRecord, RefreshTokenRecord, RefreshTokenWithGrant } from '../core/tokens/token-store.js'
import type { SigningKeyRecord } from '../core/tokens/signing-key-store.js'
import type { AuthorizationCodeRecord } from '../core/authorization/authorization-code-store.js'
import type { SignInSessionRecord, SignInSessionSelector } from '../core/authorization/sign-in-session-store.js'
import type { ConsentRecord } from '../core/authorization/consent-store.js'
import type { PushedRequestRecord } from '../core/authorization/pushed-request-store.js'
import type { DeviceAuthorizationRecord, DeviceAuthorizationStatus, DeviceDecision } from '../core/authorization/device-authorization-store.js'
import type { Store } from './types.js'
import { firstOfEachKey, GroupCommit } from './group-commit.js'
import { powerOfTwoChunks } from './statement-chunks.js'

const list = (text: string): string[] => (text === '' ? [] : text.split(' '))
const joined = (values: readonly string[]): string => values.join(' ')
const nullableNumber = (value: number | string | null): number | null => (value === null ? null : Number(value))

/** The column holds what the core wrote; anything else is a damaged row, not a default. */
function signingAlgOf(value: string): SigningAlg {
  if (value === 'ES256' || value === 'RS256') return value
  throw new Error(`unknown signing algorithm ${JSON.stringify(value)} in the database`)
}

function authMethodOf(value: string): ClientAuthMethod {
  if (value === 'client_secret_basic' || value === 'client_secret_post' || value === 'none' || value === 'private_key_jwt') return value
  throw new Error(`unknown token endpoint auth method ${JSON.stringify(value)} in the database`)
}

/** The JWK Set the admin checked and stored; a row that holds anything else is damaged. */
function jwksOf(text: string | null): ClientJwks | null {
  if (text === null) return null
  const value: unknown = JSON.parse(text)
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { keys?: unknown }).keys)) throw new Error('a client JWK Set in the database is not {"keys":[…]}')
  const keys = (value as { keys: unknown[] }).keys
  if (!keys.every((key): key is Record<string, unknown> => typeof key === 'object' && key !== null && !Array.isArray(key))) throw new Error('a client JWK Set in the database holds a key that is not an object')
  return { keys }
}

function applicationTypeOf(value: string): ApplicationType {
  const type = APPLICATION_TYPES.find((known) => known === value)
  if (type === undefined) throw new Error(`unknown application type ${JSON.stringify(value)} in the database`)
  return type
}

/** RFC 8693 §4.1 `act` as stored (JSON text written by insertOpaqueToken). */
function actorOf(text: string): ActorClaim {
  return JSON.parse(text) as ActorClaim
}

function clientFromRow(row: ClientsTable): Client {
  return {
    id: row.id,
    name: row.name,
    secretDigest: row.secret_digest,
    grantTypes: list(row.grant_types) as GrantType[],
    scopes: list(row.scopes),
    defaultScopes: list(row.default_scopes),
    audience: row.audience,
    tokenFormat: row.token_format as TokenFormat,
    signingAlg: signingAlgOf(row.signing_alg),
    accessTokenTtl: Number(row.access_token_ttl),
    refreshTokenAbsoluteTtl: Number(row.refresh_absolute_ttl),
    refreshTokenSlidingTtl: Number(row.refresh_sliding_ttl),
    refreshTokenReuseInterval: Number(row.refresh_reuse_interval),
    tokenReuseSeconds: Number(row.token_reuse_seconds),
    rotateRefreshTokens: Number(row.rotate_refresh) === 1,
    tokensNotBefore: nullableNumber(row.tokens_not_before),
    allowedUsers: row.allowed_users === null ? null : list(row.allowed_users),
    tokenEndpointAuthMethod: authMethodOf(row.token_endpoint_auth_method),
    applicationType: row.application_type === null ? null : applicationTypeOf(row.application_type),
    redirectUris: list(row.redirect_uris),
    postLogoutRedirectUris: list(row.post_logout_redirect_uris),
    requirePar: Number(row.require_par) === 1,
    requireDpop: Number(row.require_dpop) === 1,
    skipConsent: Number(row.skip_consent) === 1,
    jwks: jwksOf(row.jwks),
    jwksUri: row.jwks_uri,
    resources: list(row.resources),
    allowImpersonation: Number(row.allow_impersonation) === 1,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  }
}

function clientToRow(client: Client): ClientsTable {
  return {
    id: client.id,
    name: client.name,
    secret_digest: client.secretDigest,
    grant_types: joined(client.grantTypes),
    scopes: joined(client.scopes),
    default_scopes: joined(client.defaultScopes),
    audience: client.audience,
    token_format: client.tokenFormat,
    signing_alg: client.signingAlg,
    access_token_ttl: client.accessTokenTtl,
    refresh_absolute_ttl: client.refreshTokenAbsoluteTtl,
    refresh_sliding_ttl: client.refreshTokenSlidingTtl,
    refresh_reuse_interval: client.refreshTokenReuseInterval,
    token_reuse_seconds: client.tokenReuseSeconds,
    rotate_refresh: client.rotateRefreshTokens ? 1 : 0,
    tokens_not_before: client.tokensNotBefore,
    allowed_users: client.allowedUsers === null ? null : joined(client.allowedUsers),
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    application_type: client.applicationType,
    redirect_uris: joined(client.redirectUris),
    post_logout_redirect_uris: joined(client.postLogoutRedirectUris),
    require_par: client.requirePar ? 1 : 0,
    require_dpop: client.requireDpop ? 1 : 0,
    skip_consent: client.skipConsent ? 1 : 0,
    jwks: client.jwks === null ? null : JSON.stringify(client.jwks),
    jwks_uri: client.jwksUri,
    resources: joined(client.resources),
    allow_impersonation: client.allowImpersonation ? 1 : 0,
    created_at: client.createdAt,
    updated_at: client.updatedAt,
  }
}

function userFromRow(row: UsersTable): User {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    name: row.name,
    email: row.email,
    disabled: Number(row.disabled) === 1,
    createdAt: Number(row.created_at),
  }
}

function userToRow(user: User): UsersTable {
  return {
    id: user.id,
    username: user.username,
    password_hash: user.passwordHash,
    name: user.name,
    email: user.email,
    disabled: user.disabled ? 1 : 0,
    created_at: user.createdAt,
  }
}

function apiKeyFromRow(row: ApiKeysTable): ApiKey {
  return {
    id: row.id,
    name: row.name,
    clientId: row.client_id,
    secretDigest: row.secret_digest,
    scopes: list(row.scopes),
    audience: row.audience,
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    createdAt: Number(row.created_at),
  }
}

function grantToRow(grant: GrantRecord): GrantsTable {
  return {
    id: grant.id,
    client_id: grant.clientId,
    subject: grant.subject,
    subject_type: grant.subjectType,
    grant_type: grant.grantType,
    scope: grant.scope,
    audience: grant.audience,
    expires_at: grant.expiresAt,
    revoked_at: grant.revokedAt,
    revoked_reason: grant.revokedReason,
    created_at: grant.createdAt,
    api_key_id: grant.apiKeyId,
    dpop_jkt: grant.dpopJkt ?? null,
    resources: joined(grant.resources ?? []),
  }
}

function grantFromRow(row: GrantsTable): GrantRecord {
  return {
    id: row.id,
    clientId: row.client_id,
    subject: row.subject,
    subjectType: row.subject_type as GrantSubjectType,
    grantType: row.grant_type,
    scope: row.scope,
    audience: row.audience,
    apiKeyId: row.api_key_id,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    revokedAt: nullableNumber(row.revoked_at),
    revokedReason: row.revoked_reason as GrantEndReason | null,
    ...(row.dpop_jkt !== null ? { dpopJkt: row.dpop_jkt } : {}),
    ...(row.resources !== '' ? { resources: list(row.resources) } : {}),
  }
}

function refreshTokenToRow(token: RefreshTokenRecord): RefreshTokensTable {
  return {
    digest: token.digest,
    family_id: token.familyId,
    client_id: token.clientId,
    subject: token.subject,
    scope: token.scope,
    audience: token.audience,
    issued_at: token.issuedAt,
    expires_at: token.expiresAt,
    used_at: token.usedAt,
  }
}

function opaqueTokenToRow(token: OpaqueTokenRecord): OpaqueTokensTable {
  return {
    digest: token.digest,
    client_id: token.clientId,
    subject: token.subject,
    scope: token.scope,
    audience: token.audience,
    grant_id: token.grantId,
    issued_at: token.issuedAt,
    expires_at: token.expiresAt,
    revoked_at: token.revokedAt,
    dpop_jkt: token.dpopJkt ?? null,
    act: token.act !== undefined ? JSON.stringify(token.act) : null,
  }
}

function consoleAppFromRow(row: ConsoleAppsTable): ConsoleApp {
  return {
    clientId: row.client_id,
    ownerUserId: row.owner_user_id,
    kind: row.kind === 'api_key' ? 'api_key' : 'client',
    apiKeyId: row.api_key_id,
    createdAt: Number(row.created_at),
  }
}

function operatorFromRow(row: OperatorsTable): OperatorRecord {
  return {
    kind: row.subject_kind === 'user' ? 'user' : 'client',
    id: row.subject_id,
    role: row.role === 'admin' ? 'admin' : 'read-only',
    createdAt: Number(row.created_at),
  }
}

function apisFromRows(apis: ApisTable[], scopes: ApiScopesTable[]): Api[] {
  const byApi = new Map<string, ApiScopesTable[]>()
  for (const scope of scopes) byApi.set(scope.api_id, [...(byApi.get(scope.api_id) ?? []), scope])
  return apis.map((row) => ({
    id: row.id,
    identifier: row.identifier,
    name: row.name,
    scopes: (byApi.get(row.id) ?? [])
      .sort((a, b) => Number(a.position) - Number(b.position))
      .map((scope) => ({ name: scope.name, description: scope.description, selfService: Number(scope.self_service) === 1 })),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  }))
}

function authorizationCodeToRow(code: AuthorizationCodeRecord): AuthorizationCodesTable {
  return {
    digest: code.digest,
    client_id: code.clientId,
    user_id: code.userId,
    redirect_uri: code.redirectUri,
    scope: code.scope,
    audience: code.audience,
    code_challenge: code.codeChallenge,
    nonce: code.nonce,
    session_id: code.sessionId,
    auth_time: code.authTime,
    issued_at: code.issuedAt,
    expires_at: code.expiresAt,
    used_at: code.usedAt,
    grant_id: code.grantId,
    resources: joined(code.resources ?? []),
    dpop_jkt: code.dpopJkt ?? null,
  }
}

function authorizationCodeFromRow(row: AuthorizationCodesTable): AuthorizationCodeRecord {
  return {
    digest: row.digest,
    clientId: row.client_id,
    userId: row.user_id,
    redirectUri: row.redirect_uri,
    scope: row.scope,
    audience: row.audience,
    codeChallenge: row.code_challenge,
    nonce: row.nonce,
    sessionId: row.session_id,
    authTime: Number(row.auth_time),
    issuedAt: Number(row.issued_at),
    expiresAt: Number(row.expires_at),
    usedAt: nullableNumber(row.used_at),
    grantId: row.grant_id,
    ...(row.resources !== '' ? { resources: list(row.resources) } : {}),
    ...(row.dpop_jkt !== null ? { dpopJkt: row.dpop_jkt } : {}),
  }
}

function signInSessionFromRow(row: SignInSessionsTable): SignInSessionRecord {
  return {
    id: row.id,
    digest: row.digest,
    userId: row.user_id,
    authTime: Number(row.auth_time),
    createdAt: Number(row.created_at),
    lastSeenAt: Number(row.last_seen_at),
    expiresAt: Number(row.expires_at),
    endedAt: nullableNumber(row.ended_at),
  }
}

function consentFromRow(row: ConsentsTable): ConsentRecord {
  return { userId: row.user_id, clientId: row.client_id, scope: row.scope, createdAt: Number(row.created_at), updatedAt: Number(row.updated_at) }
}

function parametersOf(text: string): Record<string, string> {
  const value: unknown = JSON.parse(text)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('pushed request parameters in the database are not an object')
  const parameters: Record<string, string> = {}
  for (const [name, parameter] of Object.entries(value)) {
    if (typeof parameter !== 'string') throw new Error(`pushed request parameter ${JSON.stringify(name)} in the database is not a string`)
    parameters[name] = parameter
  }
  return parameters
}

function pushedRequestFromRow(row: PushedRequestsTable): PushedRequestRecord {
  return {
    digest: row.digest,
    clientId: row.client_id,
    parameters: parametersOf(row.parameters),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    usedAt: nullableNumber(row.used_at),
  }
}

function deviceStatusOf(value: string): DeviceAuthorizationStatus {
  if (value === 'pending' || value === 'approved' || value === 'denied') return value
  throw new Error(`unknown device authorization status ${JSON.stringify(value)} in the database`)
}

function deviceAuthorizationToRow(record: DeviceAuthorizationRecord): DeviceAuthorizationsTable {
  return {
    device_code_digest: record.deviceCodeDigest,
    user_code_digest: record.userCodeDigest,
    client_id: record.clientId,
    scope: record.scope,
    audience: record.audience,
    status: record.status,
    user_id: record.userId,
    session_id: record.sessionId,
    auth_time: record.authTime,
    poll_interval: record.interval,
    last_polled_at: record.lastPolledAt,
    prior_polled_at: null,
    created_at: record.createdAt,
    expires_at: record.expiresAt,
    used_at: record.usedAt,
    grant_id: record.grantId,
  }
}

function deviceAuthorizationFromRow(row: DeviceAuthorizationsTable): DeviceAuthorizationRecord {
  return {
    deviceCodeDigest: row.device_code_digest,
    userCodeDigest: row.user_code_digest,
    clientId: row.client_id,
    scope: row.scope,
    audience: row.audience,
    status: deviceStatusOf(row.status),
    userId: row.user_id,
    sessionId: row.session_id,
    authTime: nullableNumber(row.auth_time),
    interval: Number(row.poll_interval),
    lastPolledAt: nullableNumber(row.last_polled_at),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    usedAt: nullableNumber(row.used_at),
    grantId: row.grant_id,
  }
}

const scopeRows = (api: Api): ApiScopesTable[] =>
  api.scopes.map((scope, position) => ({ name: scope.name, api_id: api.id, description: scope.description, self_service: scope.selfService ? 1 : 0, position }))


/** The refresh grant's read: a token, its grant and (a user's grant) the user. */
function refreshTokenQuery(db: Kysely<Database>, digest: string) {
  return db
    .selectFrom('refresh_tokens as t')
    .innerJoin('grants as g', 'g.id', 't.family_id')
    // The grant's user in the same read: a refresh re-checks it, and this saves a round trip.
    .leftJoin('users as u', (join) => join.onRef('u.id', '=', 'g.subject').on('g.subject_type', '=', 'user'))
    .selectAll('t')
    .select([
      'g.client_id as g_client_id',
      'g.subject as g_subject',
      'g.subject_type as g_subject_type',
      'g.grant_type as g_grant_type',
      'g.scope as g_scope',
      'g.audience as g_audience',
      'g.expires_at as g_expires_at',
      'g.revoked_at as g_revoked_at',
      'g.revoked_reason as g_revoked_reason',
      'g.created_at as g_created_at',
      'g.api_key_id as g_api_key_id',
      'g.dpop_jkt as g_dpop_jkt',
      'g.resources as g_resources',
      'u.id as u_id',
      'u.disabled as u_disabled',
    ])
    .where('t.digest', '=', digest)
}

type RefreshTokenRow = Awaited<ReturnType<ReturnType<typeof refreshTokenQuery>['executeTakeFirstOrThrow']>>

/** Stands for the digest in a query compiled once; no digest looks like it (they are base64url or hex). */
const DIGEST_PLACEHOLDER = '\u0000digest\u0000'

/** One refresh rotation waiting for its batch. */
type Rotation = { digest: string; at: number; successor: RefreshTokenRecord }

export interface KyselyStoreOptions {
  kind: 'sqlite' | 'postgres'
  /** Recognises the driver's unique-constraint error. */
  isUniqueViolation(error: unknown): boolean
}

/**
 * The store on any SQL database Kysely speaks. SQLite and PostgreSQL differ only in the
 * connection (see sqlite/ and postgres/) and in how they report a duplicate key.
 */
export class KyselyStore implements Store {
  readonly kind: 'sqlite' | 'postgres'
  readonly db: Kysely<Database>
  readonly #isUniqueViolation: (error: unknown) => boolean
  /** Opaque access tokens issued in one turn of the event loop: one multi-row INSERT (group commit). */
  readonly #opaqueInserts: GroupCommit<OpaqueTokenRecord, void>
  /** Refresh rotations of one turn of the event loop: one write (group commit). */
  readonly #rotations: GroupCommit<Rotation, ConsumeResult>
  /** DPoP proofs (RFC 9449 §11.1) and client assertion jtis (RFC 7523 §3) of one turn: one INSERT each (group commit). */
  readonly #dpopProofs: GroupCommit<{ key: string; expiresAt: number }, boolean>
  readonly #assertionJtis: GroupCommit<{ clientId: string; jti: string; expiresAt: number; now: number }, boolean>

  constructor(db: Kysely<Database>, options: KyselyStoreOptions) {
    this.db = db
    this.kind = options.kind
    this.#isUniqueViolation = options.isUniqueViolation
    // 10 parameters a row: 200 rows stay far under SQLite's 32766 and PostgreSQL's 65535.
    this.#opaqueInserts = new GroupCommit((tokens) => this.#insertOpaqueTokens(tokens), 200)
    this.#rotations = new GroupCommit((rotations) => this.#rotate(rotations), 200)
    this.#dpopProofs = new GroupCommit((proofs) => this.#rememberDpopProofs(proofs), 200)
    this.#assertionJtis = new GroupCommit((jtis) => this.#rememberAssertionJtis(jtis), 200)
  }

  /**
   * Writes a batch with one multi-row statement per chunk and answers each chunk's result. On
   * PostgreSQL plain slices of at most `postgresRows` (its driver keeps no statement by its
   * text); on SQLite power-of-two chunks (statement-chunks.ts) in one transaction, so its
   * statement cache stays small and the batch still commits once.
   */
  async #inChunks<T, R>(items: readonly T[], write: (db: Kysely<Database>, chunk: T[]) => Promise<R>, postgresRows = Infinity): Promise<R[]> {
    if (this.kind === 'postgres') {
      const results: R[] = []
      for (let at = 0; at < items.length; at += postgresRows) results.push(await write(this.db, items.slice(at, at + postgresRows)))
      return results
    }
    const chunks = powerOfTwoChunks(items)
    if (chunks.length <= 1) return Promise.all(chunks.map((chunk) => write(this.db, chunk)))
    return this.db.transaction().execute(async (trx) => {
      const results: R[] = []
      for (const chunk of chunks) results.push(await write(trx, chunk))
      return results
    })
  }

  async migrate(): Promise<string[]> {
    const provider: MigrationProvider = { getMigrations: async (): Promise<Record<string, Migration>> => migrations }
    const migrator = new Migrator({ db: this.db, provider, migrationTableName: 'gatehouse_migrations', migrationLockTableName: 'gatehouse_migrations_lock' })
    const { error, results } = await migrator.migrateToLatest()
    if (error) throw error instanceof Error ? error : new Error(String(error))
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
  }

  async ping(): Promise<void> {
    await this.db.selectFrom('gatehouse_migrations' as 'clients').select((eb) => eb.lit(1).as('one')).limit(1).execute()
  }

  async close(): Promise<void> {
    await this.db.destroy()
  }

  async #insert<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (error) {
      if (this.#isUniqueViolation(error)) throw new DuplicateError(what)
      throw error
    }
  }

  // ── clients ──────────────────────────────────────────────────────────────
  async getClient(id: string): Promise<Client | undefined> {
    const row = await this.db.selectFrom('clients').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? clientFromRow(row) : undefined
  }

  async insertClient(client: Client): Promise<void> {
    await this.#insert(`client ${client.id}`, () => this.db.insertInto('clients').values(clientToRow(client)).execute())
  }

  async updateClient(client: Client): Promise<void> {
    const { id, created_at: _createdAt, ...changes } = clientToRow(client)
    await this.db.updateTable('clients').set(changes).where('id', '=', id).execute()
  }

  async deleteClient(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('refresh_tokens').where('client_id', '=', id).execute()
      await trx.deleteFrom('grants').where('client_id', '=', id).execute()
      await trx.deleteFrom('opaque_tokens').where('client_id', '=', id).execute()
      await trx.deleteFrom('api_keys').where('client_id', '=', id).execute()
      await trx.deleteFrom('console_apps').where('client_id', '=', id).execute()
      await trx.deleteFrom('client_usage').where('client_id', '=', id).execute()
      await trx.deleteFrom('consents').where('client_id', '=', id).execute()
      await trx.deleteFrom('authorization_codes').where('client_id', '=', id).execute()
      await trx.deleteFrom('pushed_requests').where('client_id', '=', id).execute()
      await trx.deleteFrom('device_authorizations').where('client_id', '=', id).execute()
      await trx.deleteFrom('client_assertion_jtis').where('client_id', '=', id).execute()
      // A later client with the same id must not inherit the operator role.
      await trx.deleteFrom('operators').where('subject_kind', '=', 'client').where('subject_id', '=', id).execute()
      const result = await trx.deleteFrom('clients').where('id', '=', id).executeTakeFirst()
      return Number(result.numDeletedRows) > 0
    })
  }

  async listClients(page: { limit: number; after?: string }): Promise<Client[]> {
    let query = this.db.selectFrom('clients').selectAll().orderBy('id').limit(page.limit)
    if (page.after !== undefined) query = query.where('id', '>', page.after)
    return (await query.execute()).map(clientFromRow)
  }

  // ── users ────────────────────────────────────────────────────────────────
  async getUserByUsername(username: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst()
    return row ? userFromRow(row) : undefined
  }

  async getUser(id: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? userFromRow(row) : undefined
  }

  async insertUser(user: User): Promise<void> {
    await this.#insert(`user ${user.username}`, () => this.db.insertInto('users').values(userToRow(user)).execute())
  }

  async updateUser(user: User): Promise<void> {
    const { id, created_at: _createdAt, ...changes } = userToRow(user)
    await this.db.updateTable('users').set(changes).where('id', '=', id).execute()
  }

  async deleteUser(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('operators').where('subject_kind', '=', 'user').where('subject_id', '=', id).execute()
      await trx.deleteFrom('sign_in_sessions').where('user_id', '=', id).execute()
      await trx.deleteFrom('consents').where('user_id', '=', id).execute()
      const result = await trx.deleteFrom('users').where('id', '=', id).executeTakeFirst()
      return Number(result.numDeletedRows) > 0
    })
  }

  async listUsers(page: { limit: number; after?: string }): Promise<User[]> {
    let query = this.db.selectFrom('users').selectAll().orderBy('username').limit(page.limit)
    if (page.after !== undefined) query = query.where('username', '>', page.after)
    return (await query.execute()).map(userFromRow)
  }

  // ── API keys ─────────────────────────────────────────────────────────────
  async getApiKey(id: string): Promise<ApiKey | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? apiKeyFromRow(row) : undefined
  }

  async insertApiKey(key: ApiKey): Promise<void> {
    await this.#insert(`API key ${key.id}`, () =>
      this.db
        .insertInto('api_keys')
        .values({
          id: key.id,
          name: key.name,
          client_id: key.clientId,
          secret_digest: key.secretDigest,
          scopes: joined(key.scopes),
          audience: key.audience,
          expires_at: key.expiresAt,
          revoked_at: key.revokedAt,
          created_at: key.createdAt,
        })
        .execute(),
    )
  }

  async revokeApiKey(id: string, at: number): Promise<boolean> {
    const updated = await this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('api_keys')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst()
      // The tokens a key gave out die with it (RFC 7009 §2.1: revoking a grant ends its tokens).
      await trx.updateTable('grants').set({ revoked_at: at, revoked_reason: 'api_key_revoked' }).where('api_key_id', '=', id).where('revoked_at', 'is', null).execute()
      return Number(result.numUpdatedRows) > 0
    })
    if (updated) return true
    return (await this.getApiKey(id)) !== undefined
  }

  async listApiKeys(page: { limit: number; after?: string; clientId?: string }): Promise<ApiKey[]> {
    let query = this.db.selectFrom('api_keys').selectAll().orderBy('id').limit(page.limit)
    if (page.after !== undefined) query = query.where('id', '>', page.after)
    if (page.clientId !== undefined) query = query.where('client_id', '=', page.clientId)
    return (await query.execute()).map(apiKeyFromRow)
  }

  // ── signing keys ─────────────────────────────────────────────────────────
  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').execute()
    return rows.map((row) => ({
      kid: row.kid,
      alg: signingAlgOf(row.alg),
      publicJwk: row.public_jwk,
      privateJwkEncrypted: row.private_jwk_enc,
      createdAt: Number(row.created_at),
      retiredAt: nullableNumber(row.retired_at),
    }))
  }

  #signingKeyRow(key: SigningKeyRecord) {
    return {
      kid: key.kid,
      alg: key.alg,
      public_jwk: key.publicJwk,
      private_jwk_enc: key.privateJwkEncrypted,
      created_at: key.createdAt,
      retired_at: key.retiredAt,
    }
  }

  async rotateSigningKey(key: SigningKeyRecord): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // Without the lock, two PostgreSQL rotations at once each miss the other's new key and leave two active.
      await this.#lockSigningKeys(trx)
      await trx.updateTable('signing_keys').set({ retired_at: key.createdAt }).where('retired_at', 'is', null).where('alg', '=', key.alg).execute()
      await trx.insertInto('signing_keys').values(this.#signingKeyRow(key)).execute()
    })
  }

  async insertFirstSigningKey(key: SigningKeyRecord): Promise<boolean> {
    // A fixed-id guard row would need a lock table; instead insert and let the
    // second of two racing instances see a key already there and drop its own.
    return this.db.transaction().execute(async (trx) => {
      await this.#lockSigningKeys(trx)
      const existing = await trx.selectFrom('signing_keys').select('kid').where('alg', '=', key.alg).where('retired_at', 'is', null).limit(1).executeTakeFirst()
      if (existing) return false
      await trx.insertInto('signing_keys').values(this.#signingKeyRow(key)).execute()
      return true
    })
  }

  async #lockSigningKeys(trx: Transaction<Database>): Promise<void> {
    if (this.kind === 'postgres') {
      // Serialises first-start key creation across instances (SQLite transactions already are).
      await sql`LOCK TABLE signing_keys IN EXCLUSIVE MODE`.execute(trx)
    }
  }

  async deleteSigningKeysRetiredBefore(at: number): Promise<number> {
    const result = await this.db.deleteFrom('signing_keys').where('retired_at', '<', at).executeTakeFirst()
    return Number(result.numDeletedRows)
  }

  // ── grants and refresh tokens ────────────────────────────────────────────
  async insertGrant(grant: GrantRecord, firstRefreshToken?: RefreshTokenRecord): Promise<void> {
    const row = grantToRow(grant)
    if (!firstRefreshToken) {
      await this.db.insertInto('grants').values(row).execute()
      return
    }
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('grants').values(row).execute()
      await trx.insertInto('refresh_tokens').values(refreshTokenToRow(firstRefreshToken)).execute()
    })
  }

  async getGrant(id: string): Promise<GrantRecord | undefined> {
    const row = await this.db.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? grantFromRow(row) : undefined
  }

  async endGrants(selector: GrantSelector, at: number, reason: GrantEndReason): Promise<number> {
    let query = this.db.updateTable('grants').set({ revoked_at: at, revoked_reason: reason }).where('revoked_at', 'is', null)
    if ('grantId' in selector) query = query.where('id', '=', selector.grantId)
    else if ('apiKeyId' in selector) query = query.where('api_key_id', '=', selector.apiKeyId)
    else if ('subject' in selector) {
      query = query.where('subject', '=', selector.subject).where('subject_type', '=', 'user')
      if (selector.clientId !== undefined) query = query.where('client_id', '=', selector.clientId)
    } else query = query.where('client_id', '=', selector.clientId)
    const result = await query.executeTakeFirst()
    return Number(result.numUpdatedRows)
  }

  /**
   * The refresh grant's read, compiled once: building this join with Kysely's query builder
   * cost more than running it (on SQLite, ~10 µs). Each call only swaps the digest in.
   */
  #refreshTokenSql: CompiledQuery<RefreshTokenRow> | undefined

  async findRefreshToken(digest: string): Promise<RefreshTokenWithGrant | undefined> {
    this.#refreshTokenSql ??= refreshTokenQuery(this.db, DIGEST_PLACEHOLDER).compile()
    const compiled = this.#refreshTokenSql
    const { rows } = await this.db.executeQuery<RefreshTokenRow>({ ...compiled, parameters: compiled.parameters.map((value) => (value === DIGEST_PLACEHOLDER ? digest : value)) })
    const row = rows[0]
    if (!row) return undefined
    return {
      digest: row.digest,
      familyId: row.family_id,
      clientId: row.client_id,
      subject: row.subject,
      scope: row.scope,
      audience: row.audience,
      issuedAt: Number(row.issued_at),
      expiresAt: Number(row.expires_at),
      usedAt: nullableNumber(row.used_at),
      grant: grantFromRow({
        id: row.family_id,
        client_id: row.g_client_id,
        subject: row.g_subject,
        subject_type: row.g_subject_type,
        grant_type: row.g_grant_type,
        scope: row.g_scope,
        audience: row.g_audience,
        expires_at: row.g_expires_at,
        revoked_at: row.g_revoked_at,
        revoked_reason: row.g_revoked_reason,
        created_at: row.g_created_at,
        api_key_id: row.g_api_key_id,
        dpop_jkt: row.g_dpop_jkt,
        resources: row.g_resources,
      }),
      ...(row.g_subject_type === 'user' ? { user: row.u_id === null ? null : { disabled: Number(row.u_disabled) === 1 } } : {}),
    }
  }

  rotateRefreshToken(digest: string, at: number, successor: RefreshTokenRecord): Promise<ConsumeResult> {
    return this.#rotations.add({ digest, at, successor })
  }

  /**
   * Rotates a batch in one write. Compare-and-set: a token is consumed only by the UPDATE that
   * flips its used_at from NULL, and only then is its successor stored. The same token twice in
   * one batch: the first wins, the others are 'already-used', as they would be one after another.
   */
  async #rotate(rotations: Rotation[]): Promise<ConsumeResult[]> {
    const { unique, won } = firstOfEachKey(rotations, (rotation) => rotation.digest)
    const consumed = new Set(this.kind === 'postgres' ? await this.#rotateOnPostgres(unique) : await this.#rotateOnSqlite(unique))
    return rotations.map((rotation) => (won(rotation, consumed) ? 'consumed' : 'already-used'))
  }

  /** One statement, one round trip, one commit: the UPDATE and the successors' INSERT in one CTE. */
  async #rotateOnPostgres(rotations: Rotation[]): Promise<string[]> {
    const column = <T>(pick: (rotation: Rotation) => T): T[] => rotations.map(pick)
    const result = await sql<{ digest: string }>`
      WITH input AS (
        SELECT * FROM unnest(
          ${column((r) => r.digest)}::text[], ${column((r) => r.at)}::bigint[],
          ${column((r) => r.successor.digest)}::text[], ${column((r) => r.successor.familyId)}::text[], ${column((r) => r.successor.clientId)}::text[],
          ${column((r) => r.successor.subject)}::text[], ${column((r) => r.successor.scope)}::text[], ${column((r) => r.successor.audience)}::text[],
          ${column((r) => r.successor.issuedAt)}::bigint[], ${column((r) => r.successor.expiresAt)}::bigint[]
        ) AS i(digest, at, s_digest, s_family_id, s_client_id, s_subject, s_scope, s_audience, s_issued_at, s_expires_at)
      ), used AS (
        UPDATE refresh_tokens t SET used_at = input.at FROM input
        WHERE t.digest = input.digest AND t.used_at IS NULL
        RETURNING t.digest
      ), successors AS (
        INSERT INTO refresh_tokens (digest, family_id, client_id, subject, scope, audience, issued_at, expires_at, used_at)
        SELECT s_digest, s_family_id, s_client_id, s_subject, s_scope, s_audience, s_issued_at, s_expires_at, NULL
        FROM input WHERE input.digest IN (SELECT digest FROM used)
      )
      SELECT digest FROM used`.execute(this.db)
    return result.rows.map((row) => row.digest)
  }

  /**
   * One transaction (one WAL commit): the UPDATE … RETURNING, then the winners' successors'
   * INSERT, each in power-of-two chunks (statement-chunks.ts; two statements, so not #inChunks).
   */
  async #rotateOnSqlite(rotations: Rotation[]): Promise<string[]> {
    return this.db.transaction().execute(async (trx) => {
      const won = new Set<string>()
      for (const chunk of powerOfTwoChunks(rotations)) {
        const values = sql.join(chunk.map((r) => sql`(${r.digest}, CAST(${r.at} AS INTEGER))`))
        const used = await sql<{ digest: string }>`
          UPDATE refresh_tokens SET used_at = input.column2 FROM (VALUES ${values}) AS input
          WHERE refresh_tokens.digest = input.column1 AND refresh_tokens.used_at IS NULL
          RETURNING refresh_tokens.digest`.execute(trx)
        for (const row of used.rows) won.add(row.digest)
      }
      const successors = rotations.filter((r) => won.has(r.digest)).map((r) => refreshTokenToRow(r.successor))
      for (const chunk of powerOfTwoChunks(successors)) await trx.insertInto('refresh_tokens').values(chunk).execute()
      return [...won]
    })
  }

  async touchRefreshToken(digest: string, expiresAt: number): Promise<void> {
    await this.db.updateTable('refresh_tokens').set({ expires_at: expiresAt }).where('digest', '=', digest).execute()
  }

  // ── access tokens ────────────────────────────────────────────────────────
  /** Resolves once the batch it joined has committed (group commit). */
  insertOpaqueToken(token: OpaqueTokenRecord): Promise<void> {
    return this.#opaqueInserts.add(token)
  }

  async #insertOpaqueTokens(tokens: OpaqueTokenRecord[]): Promise<void[]> {
    await this.#inChunks(tokens, (db, chunk) =>
      db
        .insertInto('opaque_tokens')
        .values(chunk.map(opaqueTokenToRow))
        .execute(),
    )
    return tokens.map(() => undefined)
  }

  async findOpaqueToken(digest: string): Promise<(OpaqueTokenRecord & { grantEnded: boolean }) | undefined> {
    const row = await this.db
      .selectFrom('opaque_tokens as t')
      .leftJoin('grants as g', 'g.id', 't.grant_id')
      .selectAll('t')
      .select(['g.id as g_id', 'g.revoked_at as grant_revoked_at'])
      .where('t.digest', '=', digest)
      .executeTakeFirst()
    if (!row) return undefined
    return {
      digest: row.digest,
      clientId: row.client_id,
      subject: row.subject,
      scope: row.scope,
      audience: row.audience,
      grantId: row.grant_id,
      issuedAt: Number(row.issued_at),
      expiresAt: Number(row.expires_at),
      revokedAt: nullableNumber(row.revoked_at),
      ...(row.dpop_jkt !== null ? { dpopJkt: row.dpop_jkt } : {}),
      ...(row.act !== null ? { act: actorOf(row.act) } : {}),
      grantEnded: row.grant_id !== null && (row.g_id === null || row.grant_revoked_at !== null),
    }
  }

  async revokeOpaqueToken(digest: string, at: number): Promise<void> {
    await this.db.updateTable('opaque_tokens').set({ revoked_at: at }).where('digest', '=', digest).where('revoked_at', 'is', null).execute()
  }

  async revokeJwt(jti: string, expiresAt: number): Promise<void> {
    await this.db
      .insertInto('revoked_jwts')
      .values({ jti, expires_at: expiresAt })
      .onConflict((oc) => oc.column('jti').doNothing())
      .execute()
  }

  async isJwtRevoked(jti: string): Promise<boolean> {
    const row = await this.db.selectFrom('revoked_jwts').select('jti').where('jti', '=', jti).executeTakeFirst()
    return row !== undefined
  }

  // ── client assertions ────────────────────────────────────────────────────
  rememberAssertionJti(clientId: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    return this.#assertionJtis.add({ clientId, jti, expiresAt, now })
  }

  /**
   * One statement for a batch, atomic on both databases: the primary key (client_id, jti) lets
   * one insert win; a conflicting row is taken over only when it has expired (its assertion can
   * no longer pass the exp check), else nothing changes and the row is not returned. The same
   * jti twice in one batch: the first is written, the others are replays, as they would be one
   * after another (and an upsert may not touch one row twice in a statement).
   */
  async #rememberAssertionJtis(entries: { clientId: string; jti: string; expiresAt: number; now: number }[]): Promise<boolean[]> {
    const keyOf = (entry: { clientId: string; jti: string }): string => `${entry.clientId}\u0000${entry.jti}`
    const { unique, won } = firstOfEachKey(entries, keyOf)
    // Every entry of a batch was checked within one turn: the earliest "now" is the safe cut-off.
    const now = Math.min(...unique.map((entry) => entry.now))
    const rows = await this.#inChunks(unique, (db, chunk) =>
      db
        .insertInto('client_assertion_jtis')
        .values(chunk.map((entry) => ({ client_id: entry.clientId, jti: entry.jti, expires_at: entry.expiresAt })))
        .onConflict((conflict) => conflict.columns(['client_id', 'jti']).doUpdateSet((eb) => ({ expires_at: eb.ref('excluded.expires_at') })).where('client_assertion_jtis.expires_at', '<', now))
        .returning(['client_id', 'jti'])
        .execute(),
    )
    const written = new Set(rows.flat().map((row) => keyOf({ clientId: row.client_id, jti: row.jti })))
    return entries.map((entry) => won(entry, written))
  }

  // ── DPoP proofs (RFC 9449 §11.1) ─────────────────────────────────────────
  rememberDpopProof(key: string, expiresAt: number): Promise<boolean> {
    return this.#dpopProofs.add({ key, expiresAt })
  }

  /** Insert-if-absent for a batch in one statement: of two instances racing with one proof, one inserts; within a batch, the first. */
  async #rememberDpopProofs(proofs: { key: string; expiresAt: number }[]): Promise<boolean[]> {
    const { unique, won } = firstOfEachKey(proofs, (proof) => proof.key)
    const rows = await this.#inChunks(unique, (db, chunk) =>
      db
        .insertInto('dpop_proofs')
        .values(chunk.map((proof) => ({ key: proof.key, expires_at: proof.expiresAt })))
        .onConflict((oc) => oc.column('key').doNothing())
        .returning('key')
        .execute(),
    )
    const inserted = new Set(rows.flat().map((row) => row.key))
    return proofs.map((proof) => won(proof, inserted))
  }

  // ── audit log ────────────────────────────────────────────────────────────
  async appendAuditEvent(event: AuditEvent): Promise<void> {
    await this.appendAuditEvents([event])
  }

  async appendAuditEvents(events: AuditEvent[]): Promise<void> {
    if (events.length === 0) return
    const rows = events.map((event) => ({ id: event.id, at: event.at, actor: event.actor, action: event.action, target: event.target, ip: event.ip, details: JSON.stringify(event.details) }))
    // 7 parameters a row: stay well under SQLite's 32766 and PostgreSQL's 65535 bound parameters.
    await this.#inChunks(rows, (db, chunk) => db.insertInto('audit_events').values(chunk).execute(), 1000)
  }

  async listAuditEvents(filter: AuditEventFilter): Promise<AuditEvent[]> {
    let query = this.db.selectFrom('audit_events').selectAll().orderBy('at', 'desc').orderBy('id', 'desc').limit(filter.limit)
    if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor)
    if (filter.action !== undefined) query = query.where('action', '=', filter.action)
    if (filter.target !== undefined) query = query.where('target', '=', filter.target)
    const involving = filter.involving
    if (involving !== undefined) query = involving.length === 0 ? query.where((eb) => eb.lit(false)) : query.where((eb) => eb.or([eb('actor', 'in', [...involving]), eb('target', 'in', [...involving])]))
    if (filter.from !== undefined) query = query.where('at', '>=', filter.from)
    if (filter.to !== undefined) query = query.where('at', '<', filter.to)
    const before = filter.before
    if (before !== undefined) {
      query = query.where((eb) => eb.or([eb('at', '<', before.at), eb.and([eb('at', '=', before.at), eb('id', '<', before.id)])]))
    }
    return (await query.execute()).map((row) => ({
      id: row.id,
      at: Number(row.at),
      actor: row.actor,
      action: row.action,
      target: row.target,
      ip: row.ip,
      details: JSON.parse(row.details) as Record<string, unknown>,
    }))
  }

  async deleteAuditEventsBefore(at: number, limit: number): Promise<number> {
    const db = this.db
    const result = await db
      .deleteFrom('audit_events')
      .where('id', 'in', db.selectFrom('audit_events').select('id').where('at', '<', at).limit(limit))
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }

  // ── console applications ─────────────────────────────────────────────────
  async insertConsoleApp(app: ConsoleApp): Promise<void> {
    await this.#insert(`console application ${app.clientId}`, () =>
      this.db
        .insertInto('console_apps')
        .values({ client_id: app.clientId, owner_user_id: app.ownerUserId, kind: app.kind, api_key_id: app.apiKeyId, created_at: app.createdAt })
        .execute(),
    )
  }

  async getConsoleApp(clientId: string): Promise<ConsoleApp | undefined> {
    const row = await this.db.selectFrom('console_apps').selectAll().where('client_id', '=', clientId).executeTakeFirst()
    return row ? consoleAppFromRow(row) : undefined
  }

  async listConsoleApps(ownerUserId: string): Promise<ConsoleApp[]> {
    const rows = await this.db.selectFrom('console_apps').selectAll().where('owner_user_id', '=', ownerUserId).orderBy('created_at', 'desc').execute()
    return rows.map(consoleAppFromRow)
  }

  async deleteConsoleApp(clientId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('console_apps').where('client_id', '=', clientId).executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  // ── client usage (token counts) ──────────────────────────────────────────
  async addClientUsage(increments: readonly ClientUsageIncrement[]): Promise<void> {
    if (increments.length === 0) return
    await this.db.transaction().execute(async (trx) => {
      for (const increment of increments) {
        // INSERT … SELECT from clients: no row for a client deleted since it was counted. On
        // conflict the database adds (count = count + excluded.count), so concurrent flushes of
        // several instances all count.
        await trx
          .insertInto('client_usage')
          .columns(['client_id', 'grant_type', 'count', 'last_issued_at'])
          .expression(
            trx
              .selectFrom('clients')
              .select((eb) => [
                eb.ref('clients.id').as('client_id'),
                // Typed casts: PostgreSQL types a bare parameter in a SELECT list as text.
                sql<string>`cast(${increment.grantType} as text)`.as('grant_type'),
                sql<number>`cast(${increment.count} as bigint)`.as('count'),
                sql<number>`cast(${increment.lastIssuedAt} as bigint)`.as('last_issued_at'),
              ])
              .where('clients.id', '=', increment.clientId),
          )
          .onConflict((conflict) =>
            conflict.columns(['client_id', 'grant_type']).doUpdateSet({
              count: sql<number>`client_usage.count + excluded.count`,
              last_issued_at: sql<number>`case when excluded.last_issued_at > client_usage.last_issued_at then excluded.last_issued_at else client_usage.last_issued_at end`,
            }),
          )
          .execute()
      }
    })
  }

  async listClientUsage(clientId: string): Promise<ClientUsage[]> {
    const rows = await this.db.selectFrom('client_usage').selectAll().where('client_id', '=', clientId).orderBy('grant_type').execute()
    return rows.map((row) => ({ grantType: row.grant_type, count: Number(row.count), lastIssuedAt: Number(row.last_issued_at) }))
  }

  // ── operators ────────────────────────────────────────────────────────────
  async getOperator(kind: OperatorKind, id: string): Promise<OperatorRecord | undefined> {
    const row = await this.db.selectFrom('operators').selectAll().where('subject_kind', '=', kind).where('subject_id', '=', id).executeTakeFirst()
    return row ? operatorFromRow(row) : undefined
  }

  async putOperator(operator: OperatorRecord): Promise<{ operator: OperatorRecord; previous: OperatorRecord | undefined }> {
    // ON CONFLICT … DO UPDATE (both databases): concurrent puts of one identity leave one row.
    const existing = await this.getOperator(operator.kind, operator.id)
    await this.db
      .insertInto('operators')
      .values({ subject_kind: operator.kind, subject_id: operator.id, role: operator.role, created_at: operator.createdAt })
      .onConflict((conflict) => conflict.columns(['subject_kind', 'subject_id']).doUpdateSet({ role: operator.role }))
      .execute()
    const stored = await this.getOperator(operator.kind, operator.id)
    if (!stored) throw new Error(`operator ${operator.kind}:${operator.id} vanished while being stored`)
    return { operator: stored, previous: existing }
  }

  async deleteOperator(kind: OperatorKind, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('operators').where('subject_kind', '=', kind).where('subject_id', '=', id).executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  async listOperators(): Promise<OperatorRecord[]> {
    const rows = await this.db.selectFrom('operators').selectAll().orderBy('subject_kind').orderBy('subject_id').execute()
    return rows.map(operatorFromRow)
  }

  // ── API registry ───────────────────────────────────────────────────────────
  async listApis(): Promise<Api[]> {
    const [apis, scopes] = await Promise.all([this.db.selectFrom('apis').selectAll().orderBy('identifier').execute(), this.db.selectFrom('api_scopes').selectAll().execute()])
    return apisFromRows(apis, scopes)
  }

  async #apiWhere(column: 'id' | 'identifier', value: string): Promise<Api | undefined> {
    const row = await this.db.selectFrom('apis').selectAll().where(column, '=', value).executeTakeFirst()
    if (!row) return undefined
    const scopes = await this.db.selectFrom('api_scopes').selectAll().where('api_id', '=', row.id).execute()
    return apisFromRows([row], scopes)[0]
  }

  getApi(id: string): Promise<Api | undefined> {
    return this.#apiWhere('id', id)
  }

  getApiByIdentifier(identifier: string): Promise<Api | undefined> {
    return this.#apiWhere('identifier', identifier)
  }

  async insertApi(api: Api): Promise<void> {
    await this.#insert(`API ${api.identifier} or one of its scopes`, () =>
      this.db.transaction().execute(async (trx) => {
        await trx.insertInto('apis').values({ id: api.id, identifier: api.identifier, name: api.name, created_at: api.createdAt, updated_at: api.updatedAt }).execute()
        if (api.scopes.length > 0) await trx.insertInto('api_scopes').values(scopeRows(api)).execute()
      }),
    )
  }

  async updateApi(api: Api): Promise<void> {
    await this.#insert(`API ${api.identifier} or one of its scopes`, () =>
      this.db.transaction().execute(async (trx) => {
        await trx.updateTable('apis').set({ identifier: api.identifier, name: api.name, updated_at: api.updatedAt }).where('id', '=', api.id).execute()
        await trx.deleteFrom('api_scopes').where('api_id', '=', api.id).execute()
        if (api.scopes.length > 0) await trx.insertInto('api_scopes').values(scopeRows(api)).execute()
      }),
    )
  }

  async deleteApi(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('api_scopes').where('api_id', '=', id).execute()
      const result = await trx.deleteFrom('apis').where('id', '=', id).executeTakeFirst()
      return Number(result.numDeletedRows) > 0
    })
  }

  // ── authorization codes ──────────────────────────────────────────────────
  async insertAuthorizationCode(code: AuthorizationCodeRecord): Promise<void> {
    // No digest in the message: it names the record in logs, and the digest is the code's stand-in.
    await this.#insert('authorization code', () => this.db.insertInto('authorization_codes').values(authorizationCodeToRow(code)).execute())
  }

  async findAuthorizationCode(digest: string): Promise<AuthorizationCodeRecord | undefined> {
    const row = await this.db.selectFrom('authorization_codes').selectAll().where('digest', '=', digest).executeTakeFirst()
    return row ? authorizationCodeFromRow(row) : undefined
  }

  async consumeAuthorizationCode(digest: string, at: number, grantId: string): Promise<ConsumeResult> {
    // Compare-and-set: only the caller whose UPDATE flips used_at from NULL wins; a loser
    // changes nothing, so the grant id stays the winner's (the one a replay must end).
    const result = await this.db
      .updateTable('authorization_codes')
      .set({ used_at: at, grant_id: grantId })
      .where('digest', '=', digest)
      .where('used_at', 'is', null)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1 ? 'consumed' : 'already-used'
  }

  // ── sign-in sessions ─────────────────────────────────────────────────────
  async insertSignInSession(session: SignInSessionRecord): Promise<void> {
    await this.#insert(`sign-in session ${session.id}`, () =>
      this.db
        .insertInto('sign_in_sessions')
        .values({
          id: session.id,
          digest: session.digest,
          user_id: session.userId,
          auth_time: session.authTime,
          created_at: session.createdAt,
          last_seen_at: session.lastSeenAt,
          expires_at: session.expiresAt,
          ended_at: session.endedAt,
        })
        .execute(),
    )
  }

  async findSignInSession(digest: string): Promise<SignInSessionRecord | undefined> {
    const row = await this.db.selectFrom('sign_in_sessions').selectAll().where('digest', '=', digest).executeTakeFirst()
    return row ? signInSessionFromRow(row) : undefined
  }

  async touchSignInSession(id: string, lastSeenAt: number): Promise<void> {
    // Only forward: two requests of one browser may finish in either order.
    await this.db.updateTable('sign_in_sessions').set({ last_seen_at: lastSeenAt }).where('id', '=', id).where('last_seen_at', '<', lastSeenAt).execute()
  }

  async endSignInSessions(selector: SignInSessionSelector, at: number): Promise<number> {
    // Live: not ended, and not past its absolute end (the store cannot know the idle lifetime).
    let query = this.db.updateTable('sign_in_sessions').set({ ended_at: at }).where('ended_at', 'is', null).where('expires_at', '>', at)
    query = 'id' in selector ? query.where('id', '=', selector.id) : query.where('user_id', '=', selector.userId)
    const result = await query.executeTakeFirst()
    return Number(result.numUpdatedRows)
  }

  // ── consents ─────────────────────────────────────────────────────────────
  async getConsent(userId: string, clientId: string): Promise<ConsentRecord | undefined> {
    const row = await this.db.selectFrom('consents').selectAll().where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst()
    return row ? consentFromRow(row) : undefined
  }

  async putConsent(consent: ConsentRecord): Promise<void> {
    // ON CONFLICT … DO UPDATE (both databases): concurrent puts of one (user, client) leave one row.
    const row: ConsentsTable = { user_id: consent.userId, client_id: consent.clientId, scope: consent.scope, created_at: consent.createdAt, updated_at: consent.updatedAt }
    await this.db
      .insertInto('consents')
      .values(row)
      .onConflict((conflict) => conflict.columns(['user_id', 'client_id']).doUpdateSet({ scope: row.scope, created_at: row.created_at, updated_at: row.updated_at }))
      .execute()
  }

  async deleteConsent(userId: string, clientId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('consents').where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  async listConsents(userId: string): Promise<ConsentRecord[]> {
    // Newest: the last given or changed; the client id keeps ties in a stable order.
    const rows = await this.db.selectFrom('consents').selectAll().where('user_id', '=', userId).orderBy('updated_at', 'desc').orderBy('client_id').execute()
    return rows.map(consentFromRow)
  }

  // ── pushed authorization requests ────────────────────────────────────────
  async insertPushedRequest(request: PushedRequestRecord): Promise<void> {
    await this.#insert('pushed authorization request', () =>
      this.db
        .insertInto('pushed_requests')
        .values({
          digest: request.digest,
          client_id: request.clientId,
          parameters: JSON.stringify(request.parameters),
          created_at: request.createdAt,
          expires_at: request.expiresAt,
          used_at: request.usedAt,
        })
        .execute(),
    )
  }

  async findPushedRequest(digest: string): Promise<PushedRequestRecord | undefined> {
    const row = await this.db.selectFrom('pushed_requests').selectAll().where('digest', '=', digest).executeTakeFirst()
    return row ? pushedRequestFromRow(row) : undefined
  }

  async usePushedRequest(digest: string, at: number): Promise<boolean> {
    const result = await this.db.updateTable('pushed_requests').set({ used_at: at }).where('digest', '=', digest).where('used_at', 'is', null).executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  // ── device authorizations ────────────────────────────────────────────────
  async insertDeviceAuthorization(record: DeviceAuthorizationRecord): Promise<void> {
    // A taken user code is the likely duplicate (the device code is far longer): the caller may retry with another.
    await this.#insert('device authorization with this user code', () => this.db.insertInto('device_authorizations').values(deviceAuthorizationToRow(record)).execute())
  }

  async findDeviceAuthorization(deviceCodeDigest: string): Promise<DeviceAuthorizationRecord | undefined> {
    const row = await this.db.selectFrom('device_authorizations').selectAll().where('device_code_digest', '=', deviceCodeDigest).executeTakeFirst()
    return row ? deviceAuthorizationFromRow(row) : undefined
  }

  async findDeviceAuthorizationByUserCode(userCodeDigest: string): Promise<DeviceAuthorizationRecord | undefined> {
    const row = await this.db.selectFrom('device_authorizations').selectAll().where('user_code_digest', '=', userCodeDigest).executeTakeFirst()
    return row ? deviceAuthorizationFromRow(row) : undefined
  }

  async decideDeviceAuthorization(userCodeDigest: string, decision: DeviceDecision, at: number): Promise<boolean> {
    const decided = { status: decision.status, user_id: decision.userId, session_id: decision.sessionId, auth_time: decision.authTime }
    // A denial keeps the requested scopes on record; an approval narrows them to the allowed ones.
    const changes = decision.status === 'approved' ? { ...decided, scope: decision.scope } : decided
    const result = await this.db
      .updateTable('device_authorizations')
      .set(changes)
      .where('user_code_digest', '=', userCodeDigest)
      .where('status', '=', 'pending')
      .where('expires_at', '>', at)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  async recordDevicePoll(deviceCodeDigest: string, at: number, interval?: number): Promise<number | null> {
    // One statement: SET's right-hand sides all read the row as it was, so prior_polled_at gets
    // the old last_polled_at, and RETURNING gives it back. Concurrent polls queue on the row lock
    // (PostgreSQL re-reads the row the winner committed), so each sees the one before it.
    const row = await this.db
      .updateTable('device_authorizations')
      .set((eb) => ({ prior_polled_at: eb.ref('last_polled_at'), last_polled_at: at, ...(interval === undefined ? {} : { poll_interval: interval }) }))
      .where('device_code_digest', '=', deviceCodeDigest)
      .returning('prior_polled_at')
      .executeTakeFirst()
    return row ? nullableNumber(row.prior_polled_at) : null
  }

  async consumeDeviceAuthorization(deviceCodeDigest: string, at: number, grantId: string): Promise<ConsumeResult> {
    // Compare-and-set, as for authorization codes; only an approved one can be redeemed.
    const result = await this.db
      .updateTable('device_authorizations')
      .set({ used_at: at, grant_id: grantId })
      .where('device_code_digest', '=', deviceCodeDigest)
      .where('status', '=', 'approved')
      .where('used_at', 'is', null)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1 ? 'consumed' : 'already-used'
  }

  // ── housekeeping ─────────────────────────────────────────────────────────
  async deleteExpired(now: number, limit: number, grantsBefore = now): Promise<number> {
    // Small batches by primary key: each statement touches at most `limit` rows, so no
    // long lock is held on either database.
    const db = this.db
    let deleted = 0
    const batch = async (table: 'refresh_tokens' | 'opaque_tokens' | 'authorization_codes' | 'pushed_requests', key: 'digest'): Promise<void> => {
      const r = await db
        .deleteFrom(table)
        .where(key, 'in', db.selectFrom(table).select(key).where('expires_at', '<', now).limit(limit))
        .executeTakeFirst()
      deleted += Number(r.numDeletedRows)
    }
    await batch('refresh_tokens', 'digest')
    await batch('opaque_tokens', 'digest')
    await batch('authorization_codes', 'digest')
    await batch('pushed_requests', 'digest')
    const devices = await db
      .deleteFrom('device_authorizations')
      .where('device_code_digest', 'in', db.selectFrom('device_authorizations').select('device_code_digest').where('expires_at', '<', now).limit(limit))
      .executeTakeFirst()
    deleted += Number(devices.numDeletedRows)
    // A sign-in session goes at its absolute end, or as soon as it is ended (sign-out): its
    // cookie can never be accepted again, and nothing else refers to the row.
    const sessions = await db
      .deleteFrom('sign_in_sessions')
      .where('id', 'in', db.selectFrom('sign_in_sessions').select('id').where('expires_at', '<', now).limit(limit))
      .executeTakeFirst()
    deleted += Number(sessions.numDeletedRows)
    const ended = await db
      .deleteFrom('sign_in_sessions')
      .where('id', 'in', db.selectFrom('sign_in_sessions').select('id').where('ended_at', 'is not', null).limit(limit))
      .executeTakeFirst()
    deleted += Number(ended.numDeletedRows)
    const assertions = await db
      .deleteFrom('client_assertion_jtis')
      .where((eb) => eb(eb.refTuple('client_id', 'jti'), 'in', eb.selectFrom('client_assertion_jtis').select(['client_id', 'jti']).where('expires_at', '<', now).limit(limit).$asTuple('client_id', 'jti')))
      .executeTakeFirst()
    deleted += Number(assertions.numDeletedRows)
    const proofs = await db
      .deleteFrom('dpop_proofs')
      .where('key', 'in', db.selectFrom('dpop_proofs').select('key').where('expires_at', '<', now).limit(limit))
      .executeTakeFirst()
    deleted += Number(proofs.numDeletedRows)
    const jwts = await db
      .deleteFrom('revoked_jwts')
      .where('jti', 'in', db.selectFrom('revoked_jwts').select('jti').where('expires_at', '<', now).limit(limit))
      .executeTakeFirst()
    deleted += Number(jwts.numDeletedRows)
    // A family outlives its tokens only until its absolute expiry (kept for reuse detection),
    // and stays while any token minted from it lives: an opaque access token may outlast the
    // family, and must not read as active again once a revoked family's row is gone.
    // The `limit` oldest expired families are the candidates, so the token checks probe the
    // family_id indexes for those few only: with a backlog of expired families that still
    // have tokens, PostgreSQL otherwise anti-joins the whole token table in every batch.
    const candidates = db
      .selectFrom('grants')
      .select('id')
      .where('expires_at', '<', grantsBefore)
      .orderBy('expires_at')
      .limit(limit)
      .as('c')
    const grants = await db
      .deleteFrom('grants')
      .where(
        'id',
        'in',
        db
          .selectFrom(candidates)
          .select('c.id')
          .where(({ not, exists, selectFrom }) =>
            not(exists(selectFrom('refresh_tokens as t').select('t.digest').whereRef('t.family_id', '=', 'c.id'))),
          )
          .where(({ not, exists, selectFrom }) =>
            not(exists(selectFrom('opaque_tokens as o').select('o.digest').whereRef('o.grant_id', '=', 'c.id'))),
          ),
      )
      .executeTakeFirst()
    deleted += Number(grants.numDeletedRows)
    return deleted
  }
}
