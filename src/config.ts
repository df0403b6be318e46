import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { availableParallelism } from 'node:os'
import { dirname, resolve } from 'node:path'
import { DialectConfigError, readConfigFile, resolveDialects, STANDARD_ROUTE_PATHS, type DialectsConfig } from './dialect-config.js'
import { LimitsConfigError, loadLimits, type LimitsConfig } from './limits/limits-config.js'
import { loadTracingConfig, TracingConfigError, type TracingConfig } from './tracing/tracing-config.js'

/** Everything Gatehouse reads from flags and the environment, parsed and checked before anything starts. */
export interface Config {
  databaseUrl: string
  host: string
  port: number
  /** The `iss` of tokens and the base of the metadata document. */
  issuer: string
  /** From GATEHOUSE_SECRET; undefined means a generated key file in `dataDir`. */
  secret: string | undefined
  dataDir: string
  /** Upper bound of any client's access token lifetime; retired signing keys stay published this long. */
  maxAccessTokenTtl: number
  clientCacheTtlMs: number
  keyReloadIntervalMs: number
  /** Pause between housekeeping runs (deleting expired tokens); 0 turns it off. */
  housekeepingIntervalMs: number
  /** Rows of each kind one housekeeping statement deletes. */
  housekeepingBatchSize: number
  /** Days audit events are kept; housekeeping deletes older ones. 0 keeps them forever. */
  auditRetentionDays: number
  /** Server processes `serve` runs: 1 is a single process, more is cluster mode (docs/scaling.md). */
  workers: number
  /** Seed 002 compatibility: accept GET /oauth/token with a query string. Off by default. */
  allowGetTokenRequests: boolean
  /** Seed dialects (Canary, IdentityServer, wrapped): on or off, and their paths. All on by default. */
  dialects: DialectsConfig
  logLevel: string
  production: boolean
  /** Rate limits, lockout and the Redis that shares them (docs/operations.md). */
  limits: LimitsConfig
  /**
   * GATEHOUSE_TRUST_PROXY: take the client address from X-Forwarded-For (behind a TLS proxy).
   * Alone it trusts one hop, the peer: the client is the rightmost X-Forwarded-For address.
   */
  trustProxy: boolean
  /**
   * GATEHOUSE_TRUSTED_PROXIES: addresses and CIDRs of the proxies in front (implies trustProxy).
   * The client is the rightmost X-Forwarded-For address that is not one of them, so addresses a
   * client prepends are never read. Empty: see trustProxy.
   */
  trustedProxies: string[]
  /** GATEHOUSE_METRICS (default on): serve Prometheus metrics at /metrics. */
  metrics: boolean
  /** GATEHOUSE_METRICS_TOKEN: when set, /metrics wants `Authorization: Bearer <token>`. */
  metricsToken: string | undefined
  /** GATEHOUSE_SHUTDOWN_TIMEOUT_MS: how long SIGTERM waits for requests under way. */
  shutdownTimeoutMs: number
  /** `--tls-cert`/`--tls-key` (GATEHOUSE_TLS_CERT/GATEHOUSE_TLS_KEY), read at start: serve HTTPS directly. */
  tls: { cert: Buffer; key: Buffer } | undefined
  /**
   * GATEHOUSE_REQUIRE_TLS (default: on in production): refuse a token, introspection, revocation
   * or management request that came over plain HTTP, neither over TLS nor from a trusted proxy
   * whose X-Forwarded-Proto says https (RFC 6749 §3.2, §10.9; RFC 7662 §4; RFC 7009 §5).
   */
  requireTls: boolean
  /**
   * Sign-in sessions of the hosted pages (issue 13): GATEHOUSE_SESSION_IDLE_SECONDS (default a
   * day without use) and GATEHOUSE_SESSION_MAX_SECONDS (default 7 days however active).
   */
  signInSession: { idleSeconds: number; maxSeconds: number }
  /**
   * RFC 9449 (DPoP): GATEHOUSE_DPOP_NONCE=required makes every proof at the token endpoint carry
   * a server nonce (§8); GATEHOUSE_DPOP_PROOF_WINDOW_SECONDS (default 60) is how far a proof's
   * `iat` may be from now, either way, and how long its `jti` is remembered.
   */
  dpop: { requireNonce: boolean; proofWindowSeconds: number }
  /**
   * OpenTelemetry tracing (docs/operations.md, "Tracing"): on when OTEL_EXPORTER_OTLP_ENDPOINT or
   * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set; null (off, nothing loaded) otherwise.
   */
  tracing: TracingConfig | null
}

export const DEFAULT_DATABASE_URL = 'sqlite:./data/gatehouse.db'

/** Dialect settings: flags over env over the config file over defaults. */
function loadDialects(input: ConfigInput, env: NodeJS.ProcessEnv): DialectsConfig {
  const list = (value: string | undefined): string[] => (value ?? '').split(',').map((item) => item.trim()).filter(Boolean)
  try {
    const enabled =
      input.dialects !== undefined
        ? { from: '--dialects', value: input.dialects }
        : env.GATEHOUSE_DIALECTS !== undefined && env.GATEHOUSE_DIALECTS !== ''
          ? { from: 'GATEHOUSE_DIALECTS', value: env.GATEHOUSE_DIALECTS }
          : undefined
    return resolveDialects({
      enabled,
      paths: [
        { from: 'GATEHOUSE_DIALECT_PATHS', values: list(env.GATEHOUSE_DIALECT_PATHS) },
        { from: '--dialect-path', values: input.dialectPaths ?? [] },
      ],
      file: readConfigFile(input.configFile ?? env.GATEHOUSE_CONFIG),
      reserved: STANDARD_ROUTE_PATHS,
    })
  } catch (error) {
    if (error instanceof DialectConfigError) throw new ConfigError(error.message)
    throw error
  }
}

function loadTracing(env: NodeJS.ProcessEnv): TracingConfig | null {
  try {
    return loadTracingConfig(env)
  } catch (error) {
    if (error instanceof TracingConfigError) throw new ConfigError(error.message)
    throw error
  }
}

function loadLimitsConfig(env: NodeJS.ProcessEnv): LimitsConfig {
  try {
    return loadLimits(env)
  } catch (error) {
    if (error instanceof LimitsConfigError) throw new ConfigError(error.message)
    throw error
  }
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

export interface ConfigInput {
  database?: string | undefined
  host?: string | undefined
  port?: string | number | undefined
  issuer?: string | undefined
  allowGetTokenRequests?: boolean | undefined
  /** `--config FILE` (env GATEHOUSE_CONFIG): a JSON file; today it holds `dialects`. */
  configFile?: string | undefined
  /** `--dialects canary,wrapped` (env GATEHOUSE_DIALECTS): the seed dialects that answer, or `none`. */
  dialects?: string | undefined
  /** `--dialect-path wrapped.token=/api/v1/auth/token` (repeatable; env GATEHOUSE_DIALECT_PATHS, comma-separated). */
  dialectPaths?: string[] | undefined
  /** `--workers N`; `true` (the flag without a number) means one per core. */
  workers?: string | number | boolean | undefined
  /** `--trusted-proxies 10.0.0.0/8,192.0.2.1` (env GATEHOUSE_TRUSTED_PROXIES). */
  trustedProxies?: string | undefined
  /** `--tls-cert FILE` (env GATEHOUSE_TLS_CERT): PEM certificate chain; needs tlsKey. */
  tlsCert?: string | undefined
  /** `--tls-key FILE` (env GATEHOUSE_TLS_KEY): PEM private key; needs tlsCert. */
  tlsKey?: string | undefined
}

function integer(name: string, value: string | number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback
  const parsed = typeof value === 'number' ? value : Number(value)
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${value}")`)
  }
  return parsed
}

function flag(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined
  if (['1', 'true', 'yes', 'on'].includes(value.toLowerCase())) return true
  if (['0', 'false', 'no', 'off'].includes(value.toLowerCase())) return false
  throw new ConfigError(`${name} must be true or false (got "${value}")`)
}

/** Names @fastify/proxy-addr expands into ranges (loopback, link-local, unique-local). */
const PROXY_RANGE_NAMES: ReadonlySet<string> = new Set(['loopback', 'linklocal', 'uniquelocal'])

/** One trusted proxy: an IPv4/IPv6 address, a CIDR of one, or a name of PROXY_RANGE_NAMES. */
function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true
  const [address = '', prefix, ...rest] = entry.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (prefix === undefined) return true
  const bits = Number(prefix)
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128)
}

function trustedProxyList(name: string, value: string | undefined): string[] {
  const entries = (value ?? '').split(',').map((entry) => entry.trim()).filter(Boolean)
  const bad = entries.find((entry) => !isProxyAddress(entry))
  if (bad !== undefined) throw new ConfigError(`${name} must list IP addresses or CIDRs (e.g. 10.0.0.0/8,192.0.2.1), comma-separated (got "${bad}")`)
  return entries
}

/** `--workers` alone or `auto` means one per core (os.availableParallelism()); unset means one process. */
function workerCount(value: string | number | boolean | undefined): number {
  if (value === true || value === 'auto') return availableParallelism()
  if (value === false) return 1
  return integer('workers', value, 1, 1, 256)
}

/** The certificate and key files, both or neither, read now so a bad path fails at start. */
function loadTls(input: ConfigInput, env: NodeJS.ProcessEnv): Config['tls'] {
  const nonEmpty = (value: string | undefined): string | undefined => (value === '' ? undefined : value)
  const cert = input.tlsCert !== undefined ? { from: '--tls-cert', path: input.tlsCert } : nonEmpty(env.GATEHOUSE_TLS_CERT) !== undefined ? { from: 'GATEHOUSE_TLS_CERT', path: env.GATEHOUSE_TLS_CERT ?? '' } : undefined
  const key = input.tlsKey !== undefined ? { from: '--tls-key', path: input.tlsKey } : nonEmpty(env.GATEHOUSE_TLS_KEY) !== undefined ? { from: 'GATEHOUSE_TLS_KEY', path: env.GATEHOUSE_TLS_KEY ?? '' } : undefined
  if (cert === undefined && key === undefined) return undefined
  if (cert === undefined || key === undefined) {
    throw new ConfigError(`TLS needs both a certificate and a key: set --tls-cert (GATEHOUSE_TLS_CERT) and --tls-key (GATEHOUSE_TLS_KEY), or neither (got only ${(cert ?? key)?.from})`)
  }
  const read = (file: { from: string; path: string }): Buffer => {
    try {
      return readFileSync(file.path)
    } catch (error) {
      throw new ConfigError(`${file.from}: cannot read "${file.path}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
    }
  }
  return { cert: read(cert), key: read(key) }
}

/** GATEHOUSE_DPOP_NONCE: `required`, or `off` / unset. */
function dpopNonce(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'off') return false
  if (value === 'required') return true
  throw new ConfigError(`GATEHOUSE_DPOP_NONCE must be "required" or "off" (got "${value}")`)
}

/** Flags win over environment variables, which win over defaults. */
export function loadConfig(input: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = input.database ?? env.GATEHOUSE_DATABASE_URL ?? DEFAULT_DATABASE_URL
  const host = input.host ?? env.GATEHOUSE_HOST ?? '127.0.0.1'
  const port = integer('port', input.port ?? env.GATEHOUSE_PORT, 8787, 0, 65535)
  const production = env.NODE_ENV === 'production'
  const issuer = (input.issuer ?? env.GATEHOUSE_ISSUER ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '')
  try {
    const url = new URL(issuer)
    if (url.search || url.hash) throw new Error('query or fragment')
    // RFC 8414 §2: the issuer is an https URL; plain http is for local development only.
    if (production && url.protocol !== 'https:') throw new ConfigError(`In production the issuer must be an https URL; set GATEHOUSE_ISSUER (got "${issuer}")`)
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw new ConfigError(`issuer must be an absolute URL without query or fragment (got "${issuer}")`)
  }
  const secret = env.GATEHOUSE_SECRET === '' ? undefined : env.GATEHOUSE_SECRET
  if (secret !== undefined && secret.length < 32) {
    throw new ConfigError('GATEHOUSE_SECRET must be at least 32 characters; generate one with: openssl rand -base64 32')
  }
  if (production && secret === undefined) {
    throw new ConfigError('In production GATEHOUSE_SECRET must be set (it encrypts the signing keys); generate one with: openssl rand -base64 32')
  }
  const dataDir = resolve(
    env.GATEHOUSE_DATA_DIR ??
      (databaseUrl.startsWith('sqlite:') && !databaseUrl.endsWith(':memory:') ? dirname(databaseUrl.slice('sqlite:'.length)) : './data'),
  )
  const trustedProxies = input.trustedProxies !== undefined
    ? trustedProxyList('--trusted-proxies', input.trustedProxies)
    : trustedProxyList('GATEHOUSE_TRUSTED_PROXIES', env.GATEHOUSE_TRUSTED_PROXIES)
  const trustProxy = flag('GATEHOUSE_TRUST_PROXY', env.GATEHOUSE_TRUST_PROXY)
  if (trustProxy === false && trustedProxies.length > 0) {
    throw new ConfigError('GATEHOUSE_TRUST_PROXY=false contradicts GATEHOUSE_TRUSTED_PROXIES (a list of proxies trusts them); unset one')
  }
  return {
    databaseUrl,
    host,
    port,
    issuer,
    secret,
    dataDir,
    maxAccessTokenTtl: integer('GATEHOUSE_MAX_ACCESS_TOKEN_TTL', env.GATEHOUSE_MAX_ACCESS_TOKEN_TTL, 86400, 60, 7 * 86400),
    clientCacheTtlMs: integer('GATEHOUSE_CLIENT_CACHE_TTL_MS', env.GATEHOUSE_CLIENT_CACHE_TTL_MS, 5000, 0, 3_600_000),
    keyReloadIntervalMs: integer('GATEHOUSE_KEY_RELOAD_INTERVAL_MS', env.GATEHOUSE_KEY_RELOAD_INTERVAL_MS, 5000, 100, 3_600_000),
    housekeepingIntervalMs: integer('GATEHOUSE_HOUSEKEEPING_INTERVAL_MS', env.GATEHOUSE_HOUSEKEEPING_INTERVAL_MS, 60_000, 0, 86_400_000),
    housekeepingBatchSize: integer('GATEHOUSE_HOUSEKEEPING_BATCH_SIZE', env.GATEHOUSE_HOUSEKEEPING_BATCH_SIZE, 500, 1, 100_000),
    auditRetentionDays: integer('GATEHOUSE_AUDIT_RETENTION_DAYS', env.GATEHOUSE_AUDIT_RETENTION_DAYS, 90, 0, 36_500),
    workers: workerCount(input.workers ?? env.GATEHOUSE_WORKERS),
    allowGetTokenRequests: input.allowGetTokenRequests ?? flag('GATEHOUSE_ALLOW_GET_TOKEN', env.GATEHOUSE_ALLOW_GET_TOKEN) ?? false,
    dialects: loadDialects(input, env),
    logLevel: env.GATEHOUSE_LOG_LEVEL ?? env.LOG_LEVEL ?? 'info',
    production,
    limits: loadLimitsConfig(env),
    trustProxy: trustProxy ?? trustedProxies.length > 0,
    trustedProxies,
    metrics: flag('GATEHOUSE_METRICS', env.GATEHOUSE_METRICS) ?? true,
    metricsToken: env.GATEHOUSE_METRICS_TOKEN === '' ? undefined : env.GATEHOUSE_METRICS_TOKEN,
    shutdownTimeoutMs: integer('GATEHOUSE_SHUTDOWN_TIMEOUT_MS', env.GATEHOUSE_SHUTDOWN_TIMEOUT_MS, 10_000, 0, 600_000),
    tls: loadTls(input, env),
    requireTls: flag('GATEHOUSE_REQUIRE_TLS', env.GATEHOUSE_REQUIRE_TLS) ?? production,
    dpop: { requireNonce: dpopNonce(env.GATEHOUSE_DPOP_NONCE), proofWindowSeconds: integer('GATEHOUSE_DPOP_PROOF_WINDOW_SECONDS', env.GATEHOUSE_DPOP_PROOF_WINDOW_SECONDS, 60, 5, 600) },
    signInSession: {
      idleSeconds: integer('GATEHOUSE_SESSION_IDLE_SECONDS', env.GATEHOUSE_SESSION_IDLE_SECONDS, 86_400, 60, 90 * 86_400),
      maxSeconds: integer('GATEHOUSE_SESSION_MAX_SECONDS', env.GATEHOUSE_SESSION_MAX_SECONDS, 7 * 86_400, 60, 365 * 86_400),
    },
    tracing: loadTracing(env),
  }
}
