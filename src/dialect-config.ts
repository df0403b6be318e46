import { readFileSync } from 'node:fs'

/**
 * Which seed dialects answer, and on which paths. Sources, strongest first: flags
 * (`--dialects`, `--dialect-path`), environment (`GATEHOUSE_DIALECTS`,
 * `GATEHOUSE_DIALECT_PATHS`), the config file's `dialects` object, defaults (all on, the
 * seeds' own paths). Everything is checked before the server starts.
 */

export const DIALECT_NAMES = ['canary', 'identityserver', 'wrapped'] as const
export type DialectName = (typeof DIALECT_NAMES)[number]

export interface CanaryPaths {
  requestTokens: string
  refreshTokens: string
  getTokens: string
  refreshTokensV3: string
}

export interface IdentityServerPaths {
  token: string
  userinfo: string
  revocation: string
  introspection: string
  /** Duende's authorization endpoint (the same flow as /oauth/authorize). */
  authorize: string
  /** Duende's RP-initiated logout (the same as /oauth/logout). */
  endSession: string
  /** RFC 8628 §3.1 device authorization endpoint, as Duende IdentityServer names it. */
  deviceAuthorization: string
}

export interface WrappedPaths {
  token: string
  /** Any unknown path under this prefix answers 404001 in the wrapped shape. */
  notFoundPrefix: string
}

export interface DialectsConfig {
  canary: { enabled: boolean; paths: CanaryPaths }
  identityserver: { enabled: boolean; paths: IdentityServerPaths }
  wrapped: { enabled: boolean; paths: WrappedPaths }
}

export const DEFAULT_DIALECT_PATHS: { canary: CanaryPaths; identityserver: IdentityServerPaths; wrapped: WrappedPaths } = {
  canary: {
    requestTokens: '/v2/oauth/request-tokens',
    refreshTokens: '/v2/oauth/refresh-tokens',
    getTokens: '/v3/auth/tokens/get',
    refreshTokensV3: '/v3/auth/tokens/refresh',
  },
  identityserver: {
    token: '/connect/token',
    userinfo: '/connect/userinfo',
    revocation: '/connect/revocation',
    introspection: '/connect/introspect',
    authorize: '/connect/authorize',
    endSession: '/connect/endsession',
    deviceAuthorization: '/connect/deviceauthorization',
  },
  wrapped: { token: '/v1/auth/token', notFoundPrefix: '/v1/' },
}

export class DialectConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DialectConfigError'
  }
}

export interface DialectSources {
  /** `--dialects canary,wrapped` / `GATEHOUSE_DIALECTS`: the seed dialects that answer; `none` for none. */
  enabled?: { from: string; value: string } | undefined
  /** `dialect.route=/path` settings, weakest first (env before flags). */
  paths?: { from: string; values: string[] }[]
  /** The parsed config file, if any. */
  file?: { path: string; content: unknown } | undefined
  /** Paths the standard endpoints already use; a dialect may not take one. */
  reserved?: readonly string[]
}

/** Path segments made of URL-safe characters: no Fastify parameters (`:id`) or wildcards. */
const PATH = /^(\/[A-Za-z0-9._~-]+)+\/?$/

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isDialect(name: string): name is DialectName {
  return (DIALECT_NAMES as readonly string[]).includes(name)
}

function parseEnabled(source: { from: string; value: string }): Set<DialectName> {
  const names = source.value.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean)
  if (names.length === 1 && names[0] === 'none') return new Set()
  for (const name of names) {
    if (!isDialect(name)) throw new DialectConfigError(`${source.from}: unknown dialect "${name}" (use ${DIALECT_NAMES.join(', ')} or none)`)
  }
  return new Set(names as DialectName[])
}

type PathTable = { -readonly [D in DialectName]: Record<string, string> }

function setPath(paths: PathTable, from: string, dialect: string, route: string, value: unknown): void {
  if (!isDialect(dialect)) throw new DialectConfigError(`${from}: unknown dialect "${dialect}" (use ${DIALECT_NAMES.join(', ')})`)
  const routes = Object.keys(DEFAULT_DIALECT_PATHS[dialect])
  if (!routes.includes(route)) throw new DialectConfigError(`${from}: ${dialect} has no route "${route}" (routes: ${routes.join(', ')})`)
  if (typeof value !== 'string' || !PATH.test(value)) {
    throw new DialectConfigError(`${from}: ${dialect}.${route} must be a path such as /a/b, without parameters or wildcards (got ${JSON.stringify(value)})`)
  }
  paths[dialect][route] = value
}

function readFileSettings(file: { path: string; content: unknown }, enabled: Set<DialectName>, paths: PathTable): void {
  const from = `config file ${file.path}`
  if (!isRecord(file.content)) throw new DialectConfigError(`${from}: must hold a JSON object`)
  const dialects = file.content.dialects
  if (dialects === undefined) return
  if (!isRecord(dialects)) throw new DialectConfigError(`${from}: "dialects" must be an object`)
  for (const [name, settings] of Object.entries(dialects)) {
    if (!isDialect(name)) throw new DialectConfigError(`${from}: unknown dialect "${name}" (use ${DIALECT_NAMES.join(', ')})`)
    if (!isRecord(settings)) throw new DialectConfigError(`${from}: dialects.${name} must be an object`)
    for (const key of Object.keys(settings)) {
      if (key !== 'enabled' && key !== 'paths') throw new DialectConfigError(`${from}: dialects.${name}.${key} is not a setting (enabled, paths)`)
    }
    if (settings.enabled !== undefined) {
      if (typeof settings.enabled !== 'boolean') throw new DialectConfigError(`${from}: dialects.${name}.enabled must be true or false`)
      if (settings.enabled) enabled.add(name)
      else enabled.delete(name)
    }
    if (settings.paths !== undefined) {
      if (!isRecord(settings.paths)) throw new DialectConfigError(`${from}: dialects.${name}.paths must be an object`)
      for (const [route, value] of Object.entries(settings.paths)) setPath(paths, from, name, route, value)
    }
  }
}

function readPathSettings(source: { from: string; values: string[] }, paths: PathTable): void {
  for (const setting of source.values) {
    const match = /^([a-z]+)\.([A-Za-z0-9]+)=(.*)$/.exec(setting.trim())
    if (!match) throw new DialectConfigError(`${source.from}: expected dialect.route=/path (got "${setting}")`)
    setPath(paths, source.from, match[1] as string, match[2] as string, match[3])
  }
}

/** Two routes on one path would shadow each other: refuse to start instead. */
function rejectDuplicatePaths(config: DialectsConfig, reserved: readonly string[]): void {
  const seen = new Map<string, string>(reserved.map((path) => [path, 'a standard endpoint']))
  for (const name of DIALECT_NAMES) {
    if (!config[name].enabled) continue
    for (const [route, path] of Object.entries(config[name].paths)) {
      if (route === 'notFoundPrefix') continue
      const owner = seen.get(path)
      if (owner) throw new DialectConfigError(`${name}.${route} uses ${path}, which ${owner} already uses`)
      seen.set(path, `${name}.${route}`)
    }
  }
  const prefix = config.wrapped.paths.notFoundPrefix
  if (!prefix.endsWith('/')) throw new DialectConfigError(`wrapped.notFoundPrefix must end with "/" (got "${prefix}")`)
  if (config.wrapped.enabled && !config.wrapped.paths.token.startsWith(prefix)) {
    throw new DialectConfigError(`wrapped.token (${config.wrapped.paths.token}) must lie under wrapped.notFoundPrefix (${prefix})`)
  }
}

export function resolveDialects(sources: DialectSources = {}): DialectsConfig {
  const enabled = new Set<DialectName>(DIALECT_NAMES)
  const paths: PathTable = {
    canary: { ...DEFAULT_DIALECT_PATHS.canary },
    identityserver: { ...DEFAULT_DIALECT_PATHS.identityserver },
    wrapped: { ...DEFAULT_DIALECT_PATHS.wrapped },
  }
  if (sources.file) readFileSettings(sources.file, enabled, paths)
  const chosen = sources.enabled ? parseEnabled(sources.enabled) : enabled
  for (const source of sources.paths ?? []) readPathSettings(source, paths)
  const config: DialectsConfig = {
    canary: { enabled: chosen.has('canary'), paths: paths.canary as unknown as CanaryPaths },
    identityserver: { enabled: chosen.has('identityserver'), paths: paths.identityserver as unknown as IdentityServerPaths },
    wrapped: { enabled: chosen.has('wrapped'), paths: paths.wrapped as unknown as WrappedPaths },
  }
  rejectDuplicatePaths(config, sources.reserved ?? [])
  return config
}

/** Reads `--config FILE` / `GATEHOUSE_CONFIG`: a JSON object, checked before anything starts. */
export function readConfigFile(path: string | undefined): { path: string; content: unknown } | undefined {
  if (path === undefined || path === '') return undefined
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new DialectConfigError(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
  }
  try {
    return { path, content: JSON.parse(text) as unknown }
  } catch (error) {
    throw new DialectConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`)
  }
}

/** Paths the standard endpoints answer on (src/http/app.ts STANDARD_PATHS, discovery, health, the apply schema). */
export const STANDARD_ROUTE_PATHS: readonly string[] = [
  '/schemas/gatehouse.json',
  '/oauth/token',
  '/oauth/introspect',
  '/oauth/revoke',
  '/oauth/device_authorization',
  '/.well-known/jwks.json',
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
  '/healthz',
  '/readyz',
]
