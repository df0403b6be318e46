import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { hkdfSync, randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { Config } from './config.js'
import { ApiKeyAdmin } from './core/admin/api-key-admin.js'
import { ClientAdmin } from './core/admin/client-admin.js'
import { ApiRegistry } from './core/apis/api-registry.js'
import { UserAdmin } from './core/admin/user-admin.js'
import { OperatorAdmin } from './core/admin/operator-admin.js'
import { AuditLog, auditingObserver } from './core/audit/audit-log.js'
import { ClientUsageCounter } from './core/audit/client-usage-counter.js'
import { ClientCache } from './core/client-cache.js'
import { systemClock, type Clock } from './core/clock.js'
import { Engine } from './core/engine.js'
import { Housekeeping } from './core/housekeeping.js'
import { systemRandom, type Random } from './core/random.js'
import { KeyEncryption } from './core/tokens/key-encryption.js'
import { KeyRing } from './core/tokens/key-ring.js'
import { TokenService } from './core/tokens/token-service.js'
import { DpopNonces } from './core/dpop/dpop-proof.js'
import type { KyselyStore } from './store/kysely-store.js'
import type { ChangeFeed } from './store/change-feed.js'
import { openChangeFeed } from './store/open-change-feed.js'
import { openStore } from './store/open-store.js'
import { CachedAccessTokens } from './core/tokens/opaque-token-cache.js'
import { TokenReuse } from './core/tokens/token-reuse.js'
import { AbuseGuard } from './core/abuse/abuse-guard.js'
import { PasswordHashQueue } from './core/abuse/password-hash-queue.js'
import type { RateLimiter } from './core/abuse/limits.js'
import { openLimits } from './limits/open-limits.js'
import { GatehouseMetrics, instrumentStore } from './metrics/metrics.js'
import { Authorizer } from './core/authorization/authorizer.js'
import { Consents } from './core/authorization/consents.js'
import { SignInSessions } from './core/authorization/sign-in-sessions.js'
import { DeviceFlow } from './core/authorization/device-flow.js'
import { UserCodeThrottle } from './core/authorization/user-code-throttle.js'
import { HttpKeySource } from './jwks/http-key-source.js'
import type { Tracing } from './tracing/tracing.js'
import { traceStore } from './tracing/traced-store.js'
import { traceKeySource } from './tracing/traced-key-source.js'

/** The composed service: the one place that wires store, keys, engine and admin together. */
export interface Gatehouse {
  config: Config
  store: KyselyStore
  clock: Clock
  keys: KeyRing
  tokens: TokenService
  clientCache: ClientCache
  engine: Engine
  clients: ClientAdmin
  users: UserAdmin
  /** The API and scope registry; the token path reads its in-memory copy. */
  apis: ApiRegistry
  /** Cache-invalidation notices between instances (PostgreSQL LISTEN/NOTIFY; this process only on SQLite). */
  changes: ChangeFeed
  /** Deletes expired tokens in small batches; runs in the background of a server. */
  housekeeping: Housekeeping
  apiKeys: ApiKeyAdmin
  /** The operator list: who may use the management API, and with which role. */
  operators: OperatorAdmin
  /** Management changes and failed authentications (issue 6). */
  audit: AuditLog
  /** Tokens issued per client, counted in memory and added to the store every few seconds (console activity). */
  activity: ClientUsageCounter
  /** Prometheus metrics of this instance (docs/operations.md). */
  metrics: GatehouseMetrics
  /** Token buckets (in memory or Redis): the HTTP layer's per-IP limit uses it. */
  limiter: RateLimiter
  /** Identity rate limits, failed-attempt throttle and login lockout, inside the engine. */
  guard: AbuseGuard
  /** Sign-in sessions of the hosted pages (single sign-on across clients). */
  signInSessions: SignInSessions
  /** What users allowed which clients ("Connected apps"). */
  consents: Consents
  /** The authorization endpoint's decisions (authorization code + PKCE, OpenID Connect). */
  authorizer: Authorizer
  /** The device authorization grant (RFC 8628): device codes, user codes, the person's decision. */
  deviceFlow: DeviceFlow
  /** OpenTelemetry tracing, when configured (the HTTP layer adds its request spans). */
  tracing?: Tracing
  close(): Promise<void>
}

export interface GatehouseOptions {
  logger: Logger
  clock?: Clock
  random?: Random
  /** Background work (key reloads); off for one-shot CLI commands. */
  background?: boolean
  /** Run housekeeping in the background (with `background`); off in cluster workers, whose primary runs it. */
  housekeeping?: boolean
  /** Started tracing (startServer starts it when config.tracing is set): spans for the engine, the store and fetches. */
  tracing?: Tracing
}

/**
 * The key-encryption secret: GATEHOUSE_SECRET, or else a random one kept in the data folder
 * (mode 0600). Losing that file loses the signing keys; production must set the variable.
 */
export function resolveSecret(config: Config, logger: Logger): string {
  if (config.secret !== undefined) return config.secret
  const path = join(config.dataDir, 'secret.key')
  if (!existsSync(path)) {
    mkdirSync(config.dataDir, { recursive: true })
    writeFileSync(path, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' })
    logger.warn({ path }, 'GATEHOUSE_SECRET is not set: generated a key-encryption secret in the data folder. Set GATEHOUSE_SECRET in production.')
  }
  chmodSync(path, 0o600)
  return readFileSync(path, 'utf8').trim()
}

/** The HMAC key of refresh-token successors (TokenService.successorOf): shared by every instance through GATEHOUSE_SECRET. */
function deriveSuccessorKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'gatehouse', 'refresh-token successor v1', 32))
}

/** The HMAC key of DPoP server nonces (RFC 9449 §8): every instance issues and accepts the same ones. */
function deriveDpopNonceKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'gatehouse', 'dpop nonce v1', 32))
}

/**
 * How often each instance adds its token counts to the store (client_usage): what a crash of
 * one instance can lose, at most (docs/operations.md).
 */
export const USAGE_FLUSH_INTERVAL_MS = 5000

export async function createGatehouse(config: Config, options: GatehouseOptions): Promise<Gatehouse> {
  const clock = options.clock ?? systemClock
  const random = options.random ?? systemRandom
  const store = openStore(config.databaseUrl)
  const metrics = new GatehouseMetrics()
  // The token path's store calls are timed; management and migrations use `store` itself.
  const tracer = options.tracing?.tracer
  // With tracing, each of those calls is also a span (operation name only); without, no wrapper at all.
  const timedStore = tracer
    ? traceStore(instrumentStore(store, metrics.storeDuration), tracer, config.databaseUrl.startsWith('postgres') ? 'postgresql' : 'sqlite')
    : instrumentStore(store, metrics.storeDuration)
  let feed: ChangeFeed | undefined
  let limits: ReturnType<typeof openLimits> | undefined
  try {
    await store.migrate()
    const changes = openChangeFeed(store, config.databaseUrl, {
      listen: options.background === true,
      onError: (error) => options.logger.warn({ err: error }, 'change feed connection lost; reconnecting'),
    })
    feed = changes
    const secret = resolveSecret(config, options.logger)
    const encryption = new KeyEncryption(secret)
    const keys = new KeyRing(
      { store, encryption, clock, publish: (change) => changes.publish(change) },
      { maxTokenLifetime: config.maxAccessTokenTtl, reloadIntervalMs: config.keyReloadIntervalMs },
    )
    await keys.init()
    if (options.background) keys.startReloading((error) => options.logger.error({ err: error }, 'reloading signing keys failed'))
    // Opaque tokens introspect from memory on the instance that issued them, where every instance
    // hears revocations: PostgreSQL's feed, or one process alone on an SQLite file. Workers on
    // one SQLite file hear no notices from each other, so there they always read the store.
    const accessTokens = store.kind === 'postgres' || config.workers <= 1 ? new CachedAccessTokens({ store: timedStore, grants: timedStore, publish: (change) => changes.publish(change) }) : undefined
    // Token reuse follows the same rule: it must hear every instance's revocations.
    const reuse = accessTokens ? new TokenReuse({ clock }) : undefined
    const tokens = new TokenService({ keys, store: timedStore, ...(accessTokens ? { opaqueTokens: accessTokens } : {}), clock, random, issuer: config.issuer, successorKey: deriveSuccessorKey(secret) })
    const clientCache = new ClientCache({ store: timedStore, clock }, config.clientCacheTtlMs)
    metrics.observe({ clientCacheStats: () => clientCache.stats, publishedSigningKeys: () => keys.publishedCount })
    limits = openLimits(config.limits, { clock, logger: options.logger, onBackendError: () => metrics.limitBackendErrors.inc() })
    const guard = new AbuseGuard({
      limiter: limits.limiter,
      lockout: limits.lockout,
      limits: config.limits,
      onRefused: (scope) => metrics.refused(scope),
      passwordChecks: new PasswordHashQueue(config.limits.passwordChecks),
      slowdownMs: config.limits.slowdownMs,
    })
    const apis = new ApiRegistry({
      store,
      clock,
      random,
      issuer: config.issuer,
      publish: (change) => changes.publish(change),
      // Processes on one SQLite file hear no notices: they re-read the registry this often, in the background.
      maxAgeMs: config.clientCacheTtlMs,
      onError: (error) => options.logger.error({ err: error }, 'reloading the API registry failed'),
    })
    await apis.load()
    // Another instance changed something we may hold: drop it (API keys are not cached).
    changes.subscribe((notice) => {
      if (notice.kind === 'apis' || notice.kind === 'resync') apis.invalidate()
      if (notice.kind === 'client') clientCache.invalidate(notice.id)
      if (notice.kind === 'resync') clientCache.invalidate()
      if (notice.kind === 'access-token') accessTokens?.invalidate(notice.id)
      if (notice.kind === 'resync') accessTokens?.invalidate()
      if (notice.kind === 'access-token' || notice.kind === 'resync') reuse?.invalidateAll()
      if (notice.kind === 'signing-keys' || notice.kind === 'resync') {
        keys.reload().catch((error: unknown) => options.logger.error({ err: error }, 'reloading signing keys failed'))
      }
    })
    const housekeeping = new Housekeeping({ store, clock }, { intervalMs: config.housekeepingIntervalMs, batchSize: config.housekeepingBatchSize, auditRetentionMs: config.auditRetentionDays * 86_400_000, grantGraceMs: config.maxAccessTokenTtl * 1000 })
    if (options.background && options.housekeeping !== false) {
      housekeeping.start({
        onError: (error) => options.logger.error({ err: error }, 'housekeeping failed'),
        onDeleted: (count) => options.logger.info({ deleted: count }, 'housekeeping deleted expired rows'),
      })
    }
    const audit = new AuditLog({ store, clock, random, onError: (error) => options.logger.error({ err: error }, 'writing an audit event failed') })
    const activity = new ClientUsageCounter({ store, onError: (error) => options.logger.error({ err: error }, 'writing token usage counts failed; they are kept for the next flush') })
    if (options.background) activity.start(USAGE_FLUSH_INTERVAL_MS)
    const observer = auditingObserver(audit, activity, clock)
    // private_key_jwt clients' jwks_uri: https only, and no private addresses, in production.
    const httpKeySource = new HttpKeySource({ allowHttp: !config.production, allowPrivateAddresses: !config.production })
    const clientKeySource = tracer ? traceKeySource(httpKeySource, tracer) : httpKeySource
    const onClientKeysError = (clientId: string, error: unknown): void =>
      options.logger.warn({ clientId, reason: error instanceof Error ? error.message : String(error) }, 'a client jwks_uri could not be fetched or holds no usable JWK Set')
    const engine = new Engine({
      clients: clientCache,
      users: timedStore,
      apiKeys: timedStore,
      refreshTokens: timedStore,
      grants: timedStore,
      accessTokens: accessTokens ?? timedStore,
      ...(reuse ? { reuse } : {}),
      operators: timedStore,
      authorizationCodes: timedStore,
      deviceAuthorizations: timedStore,
      assertionJtis: timedStore,
      clientKeySource,
      onClientKeysError,
      tokens,
      keys,
      clock,
      observer,
      guard,
      apis,
      ...(tracer ? { tracer } : {}),
      dpop: { replay: timedStore, windowSeconds: config.dpop.proofWindowSeconds, nonces: new DpopNonces(deriveDpopNonceKey(secret)), requireNonce: config.dpop.requireNonce },
    })
    const signInSessions = new SignInSessions({ store: timedStore, users: timedStore, clock, random, guard, audit }, { idleMs: config.signInSession.idleSeconds * 1000, absoluteMs: config.signInSession.maxSeconds * 1000 })
    const consents = new Consents({ store: timedStore, grants: timedStore, clock })
    const authorizer = new Authorizer(
      { clients: clientCache, codes: timedStore, pushedRequests: timedStore, consents, apis, clock, random, issuer: config.issuer },
      { codeTtlSeconds: 60, pushedRequestTtlSeconds: 300 },
    )
    // Wrong user codes are counted in the same token buckets as the other limits (Redis when configured).
    const deviceFlow = new DeviceFlow({ store: timedStore, clients: clientCache, consents, authorizer, clock, random, issuer: config.issuer, throttle: new UserCodeThrottle({ limiter: limits.limiter, clock }) })
    const clients = new ClientAdmin({
      store,
      users: store,
      grants: store,
      cache: clientCache,
      clock,
      random,
      maxAccessTokenTtl: config.maxAccessTokenTtl,
      issuer: config.issuer,
      publish: (change) => changes.publish(change),
      allowHttpJwksUri: !config.production,
    })
    return {
      config,
      store,
      clock,
      keys,
      tokens,
      clientCache,
      engine,
      changes,
      housekeeping,
      clients,
      apis,
      users: new UserAdmin({ store, clock, random }),
      apiKeys: new ApiKeyAdmin({ store, clients, clock, random, issuer: config.issuer }),
      operators: new OperatorAdmin({ store, clock }),
      audit,
      activity,
      metrics,
      limiter: limits.limiter,
      guard,
      signInSessions,
      consents,
      authorizer,
      deviceFlow,
      ...(options.tracing ? { tracing: options.tracing } : {}),
      async close() {
        keys.stop()
        await housekeeping.stop()
        await changes.close()
        await limits?.close()
        await audit.flush()
        await activity.stop()
        await store.close()
      },
    }
  } catch (error) {
    await feed?.close().catch(() => {})
    await limits?.close().catch(() => {})
    await store.close().catch(() => {})
    throw error
  }
}
