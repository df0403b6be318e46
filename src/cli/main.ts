#!/usr/bin/env node
import { readFileSync, writeFileSync } from 'node:fs'
import { stringify as stringifyYaml } from 'yaml'
import { Command, CommanderError, Option } from 'commander'
import { loadConfig, ConfigError, type ConfigInput } from '../config.js'
import { CLIENT_AUTH_METHODS, ClientValidationError, type ClientSettings } from '../core/admin/client-admin.js'
import { JwksError, parseJwksText } from '../core/credentials/client-jwks.js'
import { ApiKeyValidationError } from '../core/admin/api-key-admin.js'
import { clientSettingsFromWire, presentApi, presentApiKey, presentClient, presentOperator, presentUser } from '../core/admin/presenters.js'
import { ApiValidationError, editScopes, type ApiScopeInput } from '../core/apis/api-registry.js'
import type { Api } from '../core/apis/api-store.js'
import { UserValidationError } from '../core/admin/user-admin.js'
import { createOperatorToken, OperatorTokenError } from '../core/admin/operator-token.js'
import { OperatorValidationError } from '../core/admin/operator-admin.js'
import { OPERATOR_ROLES, type OperatorKind, type OperatorRole } from '../core/admin/operator-store.js'
import { APPLICATION_TYPES, DEVICE_CODE_GRANT, SIGNING_ALGS, TOKEN_EXCHANGE_GRANT, type ApplicationType, type ClientAuthMethod, type GrantType, type SigningAlg, type TokenFormat } from '../core/types.js'
import { createGatehouse, type Gatehouse } from '../gatehouse.js'
import { createLogger } from '../logger.js'
import { isClusterWorker, runClusterPrimary } from '../cluster.js'
import { startServer } from '../server.js'
import { DuplicateError } from '../core/store-errors.js'
import { openStore, redactUrl } from '../store/open-store.js'
import { fail, jsonRequested, printResult, readStdin, table } from './output.js'
import { DialectConfigError } from '../dialect-config.js'
import { MIN_CHOSEN_SECRET_LENGTH } from '../core/admin/client-admin.js'
import { pathText, type Declaration, type DeclarationPath } from '../core/config-as-code/declaration.js'
import { PlanError, planChanges, type Plan } from '../core/config-as-code/plan.js'
import { applyPlan, ApplyError, type GeneratedSecret } from '../core/config-as-code/apply-plan.js'
import { exportState } from '../core/config-as-code/export-state.js'
import { DeclarationFileError, parseDeclarationFile } from '../config-as-code/declaration-file.js'
import { dialectsOfConfigFile, dialectsSection, resolveDialectsSection, writeDialectsToConfigFile } from '../config-as-code/dialects.js'
import { readServerState } from '../config-as-code/server-state.js'
import { changeSubject, countText, planJson, planText } from '../config-as-code/plan-text.js'
import { SCHEMA_PATH } from '../config-as-code/schema.js'

/** The version of the installed package (package.json two folders above dist/cli/ and src/cli/). */
function packageVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }
    return typeof manifest.version === 'string' ? manifest.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

const program = new Command('gatehouse')
  .description('Gatehouse: an OAuth 2.0 token service for API platforms')
  .version(packageVersion(), '-V, --version', 'print the version')
  // Usage errors (unknown flag, missing argument) exit 2 like refused settings, through `fail`,
  // so that under --json they are JSON; subcommands made below inherit both settings.
  .exitOverride()
  .configureOutput({ outputError: (text, write) => (jsonRequested() ? undefined : write(text)) })
if (!jsonRequested()) program.showHelpAfterError()

const databaseOption = (): Option =>
  new Option('--database <url>', 'database URL: sqlite:PATH or postgres://… (env GATEHOUSE_DATABASE_URL)').default(undefined, 'sqlite:./data/gatehouse.db')
const jsonOption = (): Option => new Option('--json', 'print one JSON object on stdout')

type Common = { database?: string; json?: boolean }
/** The server settings a command that mints tokens must share with `serve` (the issuer above all). */
type ServerSettings = { issuer?: string; host?: string; port?: string; config?: string }

/** Opens the service for a one-shot command, runs it, closes it. Logs go to stderr. */
async function withGatehouse<T>(options: Common & ServerSettings, run: (gatehouse: Gatehouse) => Promise<T>): Promise<T> {
  // Read as `serve` reads it (flags over env over the config file), so a minted token names the server's issuer.
  const config = loadConfig({ database: options.database, issuer: options.issuer, host: options.host, port: options.port, configFile: options.config })
  const logger = createLogger(process.env.GATEHOUSE_LOG_LEVEL ?? 'warn', (await import('pino')).default.destination({ fd: 2, sync: true }))
  const gatehouse = await createGatehouse(config, { logger })
  try {
    return await run(gatehouse)
  } finally {
    await gatehouse.close()
  }
}

const seconds = (name: string) => (value: string): number => {
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${name} must be a whole number of seconds`)
  return parsed
}
const collect = (value: string, previous: string[] = []): string[] => [...previous, value]
const words = (value: string | undefined): string[] | undefined => (value === undefined ? undefined : value.split(/\s+/).filter(Boolean))
/** Every management change is an audit event (issue 6); from the CLI the actor is `cli`. */
const audited = (gatehouse: Gatehouse, action: string, target: string, details: Record<string, unknown> = {}): Promise<unknown> =>
  gatehouse.audit.record({ actor: 'cli', action, target, details })

// ── serve ──────────────────────────────────────────────────────────────────
program
  .command('serve')
  .description('run the HTTP server')
  .addOption(databaseOption())
  .option('--host <host>', 'address to listen on (env GATEHOUSE_HOST)')
  .option('--port <port>', 'port to listen on (env GATEHOUSE_PORT)')
  .option('--issuer <url>', 'issuer URL of the tokens (env GATEHOUSE_ISSUER; default http://HOST:PORT)')
  .option('--trusted-proxies <list>', 'addresses or CIDRs of the proxies in front, comma-separated; the client is the rightmost X-Forwarded-For address not among them (env GATEHOUSE_TRUSTED_PROXIES)')
  .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain); needs --tls-key (env GATEHOUSE_TLS_CERT)')
  .option('--tls-key <file>', 'PEM private key of --tls-cert (env GATEHOUSE_TLS_KEY)')
  .option('--allow-get-token', 'accept GET /oauth/token with a query string (seed 002 compatibility; env GATEHOUSE_ALLOW_GET_TOKEN)')
  .option('--workers [n]', 'server processes sharing the port (cluster mode); without a number, one per core (env GATEHOUSE_WORKERS; default 1)')
  .option('--config <file>', 'JSON config file; holds dialect settings (env GATEHOUSE_CONFIG; docs/dialects.md)')
  .option('--dialects <list>', 'seed dialects that answer: canary,identityserver,wrapped or none (env GATEHOUSE_DIALECTS; default all)')
  .option('--dialect-path <dialect.route=/path>', 'move a dialect route, e.g. wrapped.token=/api/v1/auth/token (repeatable; env GATEHOUSE_DIALECT_PATHS)', collect)
  .action(async (options: ConfigInput & { allowGetToken?: boolean; config?: string; dialectPath?: string[] }) => {
    const config = loadConfig({ ...options, allowGetTokenRequests: options.allowGetToken, configFile: options.config, dialectPaths: options.dialectPath })
    const logger = createLogger(config.logLevel)
    if (config.workers > 1 && !isClusterWorker()) {
      // Workers finish their requests within GATEHOUSE_SHUTDOWN_TIMEOUT_MS; past that (and a margin) they are killed.
      await runClusterPrimary(config, logger, { stopTimeoutMs: config.shutdownTimeoutMs + 10_000 })
      return
    }
    // In cluster mode the primary runs housekeeping; workers only serve.
    const server = await startServer(config, logger, isClusterWorker() ? { housekeeping: false } : {})
    logger.info({ url: server.url, issuer: config.issuer, database: redactUrl(config.databaseUrl) }, 'Gatehouse is listening')
    if (!isClusterWorker() && (await server.gatehouse.clients.list({ limit: 1 })).length === 0) {
      logger.info(
        `No clients yet. Create one, then ask for a token:\n` +
          `  node dist/cli/main.js clients create --name demo --scope "api" --json\n` +
          `  curl -s -X POST ${server.url}/oauth/token -u "CLIENT_ID:CLIENT_SECRET" -d grant_type=client_credentials`,
      )
    }
    // The start-up lines now, not when the log buffer next fills or its timer fires (src/logger.ts).
    logger.flush()
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) return
      stopping = true
      logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: no new connections, finishing requests under way')
      // Bounded (GATEHOUSE_SHUTDOWN_TIMEOUT_MS): then the connections still open are cut, the
      // store closes and the process exits; a close that itself hangs exits 1.
      const cut = setTimeout(() => {
        logger.warn('requests still under way at the shutdown timeout: closing their connections')
        server.app.server.closeAllConnections()
      }, config.shutdownTimeoutMs)
      cut.unref()
      const force = setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 5_000)
      force.unref()
      server
        .close()
        .then(() => logger.info('stopped'))
        .then(() => logger.flush())
        .then(() => process.exit(0))
        .catch(() => process.exit(1))
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
  })

// ── migrate ────────────────────────────────────────────────────────────────
program
  .command('migrate')
  .description('apply pending database migrations')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (options: Common) => {
    const config = loadConfig({ database: options.database })
    const store = openStore(config.databaseUrl)
    try {
      const applied = await store.migrate()
      printResult(!!options.json, { applied }, applied.length ? `applied: ${applied.join(', ')}` : 'up to date: nothing to apply')
    } finally {
      await store.close()
    }
  })

// ── clients ────────────────────────────────────────────────────────────────
const clients = program.command('clients').description('manage OAuth clients')

const clientSettingOptions = (command: Command): Command =>
  command
    .option('--grant <grant>', `allowed grant type (repeatable; replaces the list): client_credentials, password, refresh_token, api_key, authorization_code, ${DEVICE_CODE_GRANT} (or device_code), ${TOKEN_EXCHANGE_GRANT} (or token_exchange)`, collect)
    .addOption(new Option('--auth-method <method>', 'how it authenticates at the token endpoint; none makes a public client without a secret, private_key_jwt one that signs assertions with a key of --jwks or --jwks-uri (default client_secret_basic)').choices(CLIENT_AUTH_METHODS))
    .option('--jwks <json>', 'private_key_jwt: the public keys, a JWK Set or one JWK as JSON (or @FILE to read it from a file); replaces --jwks-uri')
    .option('--jwks-uri <url>', 'private_key_jwt: where the client publishes its JWK Set (https; http only outside production); replaces --jwks')
    .addOption(new Option('--app-type <type>', 'what kind of application it is (a label; it grants nothing)').choices(APPLICATION_TYPES))
    .option('--redirect-uri <url>', 'where authorization answers may go (repeatable; replaces the list); needed by authorization_code', collect)
    .option('--post-logout-redirect-uri <url>', 'where logout may send the browser back to (repeatable; replaces the list)', collect)
    .option('--require-par', 'authorization requests must come through /oauth/par (RFC 9126)')
    .option('--no-require-par', 'authorization requests may come without /oauth/par (the default)')
    .option('--require-dpop', 'every token request must carry a DPoP proof (RFC 9449)')
    .option('--no-require-dpop', 'token requests may come without a DPoP proof (the default)')
    .option('--skip-consent', 'a first-party client: users are not asked to consent')
    .option('--no-skip-consent', 'users are asked to consent (the default)')
    .option('--scope <scopes>', 'space-separated scopes the client may ask for')
    .option('--default-scope <scopes>', 'scopes granted when a request names none (default: all allowed)')
    .option('--audience <aud>', 'aud claim of its access tokens (default: the issuer); the default resource')
    .option('--resource <url>', 'a further resource (RFC 8707: an absolute URI) it may ask for with resource or audience (repeatable; replaces the list); at token exchange, an API it acts as', collect)
    .option('--no-resources', 'remove every further resource (its audience and its scopes\' APIs stay)')
    .option('--allow-impersonation', 'token exchange (RFC 8693) without an actor_token is allowed for it')
    .option('--no-allow-impersonation', 'token exchange needs an actor_token (the default)')
    .addOption(new Option('--token-format <format>', 'access token format').choices(['jwt', 'opaque']))
    .addOption(new Option('--signing-alg <alg>', 'JWS algorithm of its JWT access tokens (default ES256)').choices(SIGNING_ALGS))
    .option('--access-token-ttl <seconds>', 'access token lifetime', seconds('--access-token-ttl'))
    .option('--refresh-token-ttl <seconds>', 'refresh token absolute lifetime', seconds('--refresh-token-ttl'))
    .option('--refresh-token-sliding-ttl <seconds>', 'refresh token sliding lifetime', seconds('--refresh-token-sliding-ttl'))
    .option('--refresh-reuse-interval <seconds>', 'seconds a rotated refresh token is still accepted (lost-response retry)', seconds('--refresh-reuse-interval'))
    .option('--token-reuse <seconds>', 'client_credentials: answer a repeat request (same scopes, audience, DPoP key) within this many seconds with the same token; 0 turns it off (docs/design.md)', seconds('--token-reuse'))
    .option('--no-rotate-refresh-tokens', 'keep the same refresh token on use (IdentityServer ReUse mode)')
    .option('--allow-user <user>', 'a user (id or username) the password grant may log in through this client (repeatable; replaces the list)', collect)
    .option('--allow-any-user', 'the password grant may log in any user (the default for clients made here)')

type ClientFlags = Common & {
  name?: string
  clientId?: string
  grant?: string[]
  authMethod?: ClientAuthMethod
  jwks?: string
  jwksUri?: string
  appType?: ApplicationType
  redirectUri?: string[]
  postLogoutRedirectUri?: string[]
  requirePar?: boolean
  requireDpop?: boolean
  skipConsent?: boolean
  scope?: string
  defaultScope?: string
  audience?: string
  /** --resource URL (repeatable); false with --no-resources. */
  resource?: string[]
  resources?: boolean
  allowImpersonation?: boolean
  tokenFormat?: TokenFormat
  signingAlg?: SigningAlg
  accessTokenTtl?: number
  refreshTokenTtl?: number
  refreshTokenSlidingTtl?: number
  refreshReuseInterval?: number
  tokenReuse?: number
  rotateRefreshTokens?: boolean
  allowUser?: string[]
  allowAnyUser?: boolean
}

/** --allow-user takes ids or usernames; the client stores user ids. */
async function allowedUsersOf(gatehouse: Gatehouse, flags: ClientFlags): Promise<Partial<ClientSettings>> {
  if (flags.allowAnyUser && flags.allowUser) throw new ClientValidationError('give either --allow-user or --allow-any-user, not both')
  if (flags.allowAnyUser) return { allowedUsers: null }
  if (!flags.allowUser) return {}
  const ids: string[] = []
  for (const ref of flags.allowUser) {
    const user = await gatehouse.users.find(ref)
    if (!user) throw new ClientValidationError(`no user ${ref} (for --allow-user)`)
    ids.push(user.id)
  }
  return { allowedUsers: ids }
}

/** `--grant device_code` is short for the device grant's URN (RFC 8628 §3.4), which is what the client stores. */
const GRANT_ALIASES: Readonly<Record<string, GrantType>> = { device_code: DEVICE_CODE_GRANT, token_exchange: TOKEN_EXCHANGE_GRANT }
const grantTypes = (grants: string[] | undefined): GrantType[] | undefined => grants?.map((grant) => GRANT_ALIASES[grant] ?? (grant as GrantType))

/** `--jwks JSON` or `--jwks @FILE`: a JWK Set, or one JWK made a set of one. */
function jwksFlag(value: string | undefined): ClientSettings['jwks'] | undefined {
  if (value === undefined) return undefined
  let text = value
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8')
    } catch (error) {
      throw new ClientValidationError(`--jwks: cannot read ${value.slice(1)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
    }
  }
  try {
    return parseJwksText(text)
  } catch (error) {
    if (error instanceof JwksError) throw new ClientValidationError(`--jwks: ${error.message}`)
    throw error
  }
}

function clientSettings(flags: ClientFlags): Partial<ClientSettings> {
  return clientSettingsFromWire({
    name: flags.name,
    grant_types: grantTypes(flags.grant),
    token_endpoint_auth_method: flags.authMethod,
    jwks: jwksFlag(flags.jwks),
    jwks_uri: flags.jwksUri,
    application_type: flags.appType,
    redirect_uris: flags.redirectUri,
    post_logout_redirect_uris: flags.postLogoutRedirectUri,
    // Undefined unless --require-par / --no-require-par (both are defined, so commander sets no default).
    require_par: flags.requirePar,
    require_dpop: flags.requireDpop,
    skip_consent: flags.skipConsent,
    scopes: words(flags.scope),
    default_scopes: words(flags.defaultScope),
    audience: flags.audience,
    // commander sets resources=true by default for --no-resources; only that flag clears the list.
    resources: flags.resources === false ? [] : flags.resource,
    allow_impersonation: flags.allowImpersonation,
    token_format: flags.tokenFormat,
    signing_alg: flags.signingAlg,
    access_token_ttl: flags.accessTokenTtl,
    refresh_token_ttl: flags.refreshTokenTtl,
    refresh_token_sliding_ttl: flags.refreshTokenSlidingTtl,
    refresh_reuse_interval: flags.refreshReuseInterval,
    token_reuse_seconds: flags.tokenReuse,
    // commander sets rotateRefreshTokens=true by default for a --no- flag; only record a change.
    rotate_refresh_tokens: flags.rotateRefreshTokens === false ? false : undefined,
  })
}

const recordText = (record: Record<string, unknown>): string =>
  Object.entries(record)
    .map(([key, value]) => `${key.padEnd(26)} ${Array.isArray(value) ? value.join(' ') || '-' : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value ?? '-')}`)
    .join('\n')

clientSettingOptions(
  clients
    .command('create')
    .description('create a client; prints its secret once (a public client, --auth-method none, and a private_key_jwt one have none)')
    .requiredOption('--name <name>', 'display name')
    .option('--client-id <id>', 'use this client id instead of a generated one'),
)
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (flags: ClientFlags) => {
    await withGatehouse(flags, async (gatehouse) => {
      const settings = { ...clientSettings(flags), ...(await allowedUsersOf(gatehouse, flags)) }
      const { client, clientSecret } = await gatehouse.clients.create({
        ...settings,
        name: flags.name ?? '',
        ...(flags.clientId !== undefined ? { id: flags.clientId } : {}),
      })
      await audited(gatehouse, 'client.created', `client:${client.id}`, { name: client.name, grant_types: client.grantTypes, scopes: client.scopes, token_endpoint_auth_method: client.tokenEndpointAuthMethod })
      if (clientSecret === null && client.tokenEndpointAuthMethod === 'private_key_jwt') {
        printResult(!!flags.json, presentClient(client), `${recordText(presentClient(client))}\n\nThis client authenticates with private_key_jwt: it has no client secret. It signs a short-lived JWT (iss and sub its client_id, aud the issuer, a fresh jti) with its private key and sends it as client_assertion.`)
        return
      }
      if (clientSecret === null) {
        // A public client: no client_secret member or line at all, not an empty or null one.
        printResult(!!flags.json, presentClient(client), `${recordText(presentClient(client))}\n\nThis is a public client (auth method none): it has no client secret. It sends only its client_id, and proves itself with PKCE (authorization_code) or the device code.`)
        return
      }
      printResult(
        !!flags.json,
        { ...presentClient(client), client_secret: clientSecret },
        `${recordText(presentClient(client))}\n\nclient_secret ${clientSecret}\n\nThe secret is shown only now. Store it safely.`,
      )
    })
  })

clients
  .command('list')
  .description('list clients')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .option('--limit <n>', 'page size', '100')
  .option('--after <id>', 'list clients after this id')
  .action(async (flags: Common & { limit: string; after?: string }) => {
    await withGatehouse(flags, async (gatehouse) => {
      const list = await gatehouse.clients.list({ limit: Number(flags.limit), ...(flags.after ? { after: flags.after } : {}) })
      const rows = list.map(presentClient)
      printResult(!!flags.json, { clients: rows }, table(rows, ['client_id', 'name', 'application_type', 'token_endpoint_auth_method', 'grant_types', 'scopes', 'token_format']))
    })
  })

clients
  .command('show <id>')
  .description('show one client')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (id: string, flags: Common) => {
    await withGatehouse(flags, async (gatehouse) => {
      const client = await gatehouse.clients.get(id)
      if (!client) fail(`no client with id ${id}`)
      printResult(!!flags.json, presentClient(client), recordText(presentClient(client)))
    })
  })

clientSettingOptions(clients.command('update <id>').description('change a client').option('--name <name>', 'display name'))
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (id: string, flags: ClientFlags) => {
    await withGatehouse(flags, async (gatehouse) => {
      const settings = { ...clientSettings(flags), ...(await allowedUsersOf(gatehouse, flags)) }
      const client = await gatehouse.clients.update(id, settings)
      if (!client) fail(`no client with id ${id}`)
      await audited(gatehouse, 'client.updated', `client:${id}`, { fields: Object.keys(settings).sort() })
      printResult(!!flags.json, presentClient(client), recordText(presentClient(client)))
    })
  })

clients
  .command('rotate-secret <id>')
  .description('replace a client secret; the old one stops working; prints the new one once')
  .option('--revoke-tokens', 'also end every grant of the client and make its earlier access tokens inactive')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (id: string, flags: Common & { revokeTokens?: boolean }) => {
    await withGatehouse(flags, async (gatehouse) => {
      const revokeTokens = flags.revokeTokens === true
      const rotated = await gatehouse.clients.rotateSecret(id, { revokeTokens })
      if (!rotated) fail(`no client with id ${id}`)
      await audited(gatehouse, 'client.secret_rotated', `client:${id}`, { revoke_tokens: revokeTokens })
      printResult(!!flags.json, { client_id: id, client_secret: rotated.clientSecret }, `client_id     ${id}\nclient_secret ${rotated.clientSecret}\n\nThe secret is shown only now.`)
    })
  })

clients
  .command('revoke-tokens <id>')
  .description('end every token the client holds (its grants, and its earlier access tokens), e.g. after changing a leaked key')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (id: string, flags: Common) => {
    await withGatehouse(flags, async (gatehouse) => {
      const revoked = await gatehouse.clients.revokeTokens(id)
      if (!revoked) fail(`no client with id ${id}`)
      await audited(gatehouse, 'client.tokens_revoked', `client:${id}`, { grants_ended: revoked.ended })
      printResult(!!flags.json, { client_id: id, grants_ended: revoked.ended }, `Every token of client ${id} issued before now stops working (${revoked.ended} grants ended).`)
    })
  })

clients
  .command('delete <id>')
  .description('delete a client with its refresh tokens and API keys')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (id: string, flags: Common) => {
    await withGatehouse(flags, async (gatehouse) => {
      if (!(await gatehouse.clients.delete(id))) fail(`no client with id ${id}`)
      await audited(gatehouse, 'client.deleted', `client:${id}`)
      printResult(!!flags.json, { deleted: id }, `deleted client ${id}`)
    })
  })

// ── apis ───────────────────────────────────────────────────────────────────
const apis = program.command('apis').description('manage the API and scope registry (the audiences and scopes tokens may carry)')

/** `--scope NAME=DESCRIPTION`: the description is everything after the first "=". */
function scopeFlag(value: string): { name: string; description: string } {
  const at = value.indexOf('=')
  if (at <= 0) throw new ApiValidationError(`--scope must be NAME=DESCRIPTION (got "${value}")`)
  return { name: value.slice(0, at).trim(), description: value.slice(at + 1).trim() }
}

const apiText = (api: Api): string => {
  const width = Math.max(0, ...api.scopes.map((scope) => scope.name.length))
  const scopes = api.scopes.map((scope) => `  ${scope.name.padEnd(width)}  ${scope.selfService ? 'self-service' : 'restricted  '}  ${scope.description}`)
  return [`id          ${api.id}`, `identifier  ${api.identifier}`, `name        ${api.name}`, 'scopes', ...scopes].join('\n')
}

type ApiFlags = Common & { identifier?: string; name?: string; scope?: string[]; selfService?: string[]; restricted?: string[]; removeScope?: string[] }

apis
  .command('create')
  .description('register an API: its identifier (the aud of its tokens), name and scopes')
  .requiredOption('--identifier <url>', 'absolute URL naming the API; the aud claim of tokens for it')
  .requiredOption('--name <name>', 'display name')
  .requiredOption('--scope <name=description>', 'a scope and what it allows, in words a person can read (repeatable)', collect)
  .option('--self-service <name>', 'a scope developers may take in the console (repeatable; default: restricted to operators)', collect)
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (flags: ApiFlags) => {
    await withGatehouse(flags, async (gatehouse) => {
      const given = (flags.scope ?? []).map(scopeFlag)
      const selfService = new Set(flags.selfService ?? [])
      for (const name of selfService) {
        if (!given.some((scope) => scope.name === name)) throw new ApiValidationError(`--self-service ${name}: no such --scope given`)
      }
      const scopes: ApiScopeInput[] = given.map((scope) => ({ ...scope, selfService: selfService.has(scope.name) }))
      const api = await gatehouse.apis.create({ identifier: flags.identifier ?? '', name: flags.name ?? '', scopes })
      await audited(gatehouse, 'api.created', `api:${api.id}`, { identifier: api.identifier, scopes: api.scopes.map((scope) => scope.name) })
      printResult(!!flags.json, presentApi(api), apiText(api))
    })
  })

apis
  .command('list')
  .description('list registered APIs')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (flags: Common) => {
    await withGatehouse(flags, async (gatehouse) => {
      const list = await gatehouse.apis.list()
      const rows = list.map((api) => ({ id: api.id, identifier: api.identifier, name: api.name, scopes: api.scopes.map((scope) => (scope.selfService ? `${scope.name}*` : scope.name)) }))
      printResult(!!flags.json, { apis: list.map(presentApi) }, `${table(rows, ['id', 'identifier', 'name', 'scopes'])}${rows.length ? '\n(* self-service)' : ''}`)
    })
  })

apis
  .command('show <api>')
  .description('show one API (by id or identifier)')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (ref: string, flags: Common) => {
    await withGatehouse(flags, async (gatehouse) => {
      const api = await gatehouse.apis.get(ref)
      if (!api) fail(`no API ${ref}`)
      printResult(!!flags.json, presentApi(api), apiText(api))
    })
  })

apis
  .command('update <api>')
  .description('change an API (by id or identifier); scope options change only the scopes they name')
  .option('--identifier <url>', 'new identifier (tokens already issued keep the old aud)')
  .option('--name <name>', 'display name')
  .option('--scope <name=description>', 'add a scope, or change its description (repeatable)', collect)
  .option('--remove-scope <name>', 'remove a scope (repeatable)', collect)
  .option('--self-service <name>', 'let developers take this scope in the console (repeatable)', collect)
  .option('--restricted <name>', 'only operators grant this scope (repeatable)', collect)
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (ref: string, flags: ApiFlags) => {
    await withGatehouse(flags, async (gatehouse) => {
      const current = await gatehouse.apis.get(ref)
      if (!current) fail(`no API ${ref}`)
      const editsScopes = [flags.scope, flags.removeScope, flags.selfService, flags.restricted].some((list) => list !== undefined)
      const changes = {
        ...(flags.identifier !== undefined ? { identifier: flags.identifier } : {}),
        ...(flags.name !== undefined ? { name: flags.name } : {}),
        ...(editsScopes
          ? { scopes: editScopes(current.scopes, { set: (flags.scope ?? []).map(scopeFlag), remove: flags.removeScope ?? [], selfService: flags.selfService ?? [], restricted: flags.restricted ?? [] }) }
          : {}),
      }
      const api = await gatehouse.apis.update(current.id, changes)
      if (!api) fail(`no API ${ref}`)
      await audited(gatehouse, 'api.updated', `api:${api.id}`, { fields: Object.keys(changes).sort(), identifier: api.identifier })
      printResult(!!flags.json, presentApi(api), apiText(api))
    })
  })

apis
  .command('delete <api>')
  .description('delete an API and its scopes (by id or identifier); clients keep the scope names, which then name no API')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (ref: string, flags: Common) => {
    await withGatehouse(flags, async (gatehouse) => {
      const api = await gatehouse.apis.delete(ref)
      if (!api) fail(`no API ${ref}`)
      await audited(gatehouse, 'api.deleted', `api:${api.id}`, { identifier: api.identifier })
      printResult(!!flags.json, { deleted: api.id, identifier: api.identifier }, `deleted API ${api.identifier} (${api.id})`)
    })
  })

// ── users ──────────────────────────────────────────────────────────────────
const users = program.command('users').description('manage users of the password grant')

users
  .command('create')
  .description('create a user; the password is read from stdin')
  .requiredOption('--username <email>', 'the user name, an email address')
  .option('--name <name>', 'display name')
  .requiredOption('--password-stdin', 'read the password from standard input')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (flags: Common & { username: string; name?: string }) => {
    const password = await readStdin()
    await withGatehouse(flags, async (gatehouse) => {
      const user = await gatehouse.users.create({ username: flags.username, password, name: flags.name ?? null })
      await audited(gatehouse, 'user.created', `user:${user.id}`, { username: user.username })
      printResult(!!flags.json, presentUser(user), `created user ${user.username} (${user.id})`)
    })
  })

users
  .command('list')
  .description('list users')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .option('--limit <n>', 'page size', '100')
  .action(async (flags: Common & { limit: string }) => {
    await withGatehouse(flags, async (gatehouse) => {
      const list = await gatehouse.users.list({ limit: Number(flags.limit) })
      const rows = list.map(presentUser)
      printResult(!!flags.json, { users: rows }, table(rows, ['id', 'username', 'name', 'disabled']))
    })
  })

users
  .command('set-password <user>')
  .description('set a user password (by id or username), read from stdin')
  .requiredOption('--password-stdin', 'read the password from standard input')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (user: string, flags: Common) => {
    const password = await readStdin()
    await withGatehouse(flags, async (gatehouse) => {
      const updated = await gatehouse.users.setPassword(user, password)
      if (!updated) fail(`no user ${user}`)
      await audited(gatehouse, 'user.password_changed', `user:${updated.id}`)
      printResult(!!flags.json, presentUser(updated), `password changed for ${updated.username}`)
    })
  })

for (const [name, disabled] of [['disable', true], ['enable', false]] as const) {
  users
    .command(`${name} <user>`)
    .description(`${name} a user (by id or username)`)
    .addOption(databaseOption())
    .addOption(jsonOption())
    .action(async (user: string, flags: Common) => {
      await withGatehouse(flags, async (gatehouse) => {
        const updated = await gatehouse.users.setDisabled(user, disabled)
        if (!updated) fail(`no user ${user}`)
        await audited(gatehouse, `user.${name}d`, `user:${updated.id}`)
        printResult(!!flags.json, presentUser(updated), `${updated.username} ${name}d`)
      })
    })
}

users
  .command('unlock <user>')
  .description('end the lockout of a user (by id or username) after failed logins')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (user: string, flags: Common) => {
    await withGatehouse(flags, async (gatehouse) => {
      const found = await gatehouse.users.find(user)
      if (!found) fail(`no user ${user}`)
      if (gatehouse.config.limits.lockout === null) fail('login lockout is off (GATEHOUSE_LOCKOUT=off): nothing to unlock', 2)
      // Without Redis the lockout lives in each server's memory, which this process cannot reach.
      if (gatehouse.config.limits.redisUrl === undefined) {
        fail(`the lockout is kept in each server process (GATEHOUSE_REDIS_URL is not set); unlock through the server: POST /admin/v1/users/${found.id}/unlock`, 2)
      }
      const lockedFor = await gatehouse.guard.unlockUser(found.username)
      await audited(gatehouse, 'user.unlocked', `user:${found.id}`, { locked_for: lockedFor })
      printResult(!!flags.json, { ...presentUser(found), locked_for: lockedFor }, lockedFor > 0 ? `${found.username} unlocked (${lockedFor} s were left)` : `${found.username} was not locked; its failed logins are forgotten`)
    })
  })

users
  .command('delete <user>')
  .description('delete a user (by id or username)')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (user: string, flags: Common) => {
    await withGatehouse(flags, async (gatehouse) => {
      if (!(await gatehouse.users.delete(user))) fail(`no user ${user}`)
      await audited(gatehouse, 'user.deleted', `user:${user}`)
      printResult(!!flags.json, { deleted: user }, `deleted user ${user}`)
    })
  })

users
  .command('end-sessions <user>')
  .description("end every grant a user gave (by id or username): their tokens stop working at once")
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (user: string, flags: Common) => {
    await withGatehouse(flags, async (gatehouse) => {
      const result = await gatehouse.users.endSessions(user)
      if (!result) fail(`no user ${user}`)
      await audited(gatehouse, 'user.sessions_ended', `user:${result.user.id}`, { ended_grants: result.ended })
      printResult(!!flags.json, { user_id: result.user.id, ended_grants: result.ended }, `ended ${result.ended} grant(s) of ${result.user.username}`)
    })
  })

// ── api-keys ───────────────────────────────────────────────────────────────
const apiKeys = program.command('api-keys').description('manage Canary-style API keys (KEYID:SECRET)')

apiKeys
  .command('create')
  .description('create an API key; prints it once as KEYID:SECRET')
  .requiredOption('--name <name>', 'display name')
  .option('--scope <scopes>', "space-separated scopes of the key (default: all of its client's)")
  .option('--audience <aud>', "aud claim of its access tokens (default: its client's)")
  .option('--expires-in <seconds>', 'lifetime of the key (default: no expiry)', seconds('--expires-in'))
  .option('--client <id>', 'owner client, which must allow the api_key grant (default: a new client for this key)')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (flags: Common & { name: string; scope?: string; audience?: string; expiresIn?: number; client?: string }) => {
    await withGatehouse(flags, async (gatehouse) => {
      const { key, apiKey } = await gatehouse.apiKeys.create({
        name: flags.name,
        ...(flags.scope !== undefined ? { scopes: words(flags.scope) ?? [] } : {}),
        ...(flags.audience !== undefined ? { audience: flags.audience } : {}),
        ...(flags.expiresIn !== undefined ? { expiresIn: flags.expiresIn } : {}),
        ...(flags.client !== undefined ? { clientId: flags.client } : {}),
      })
      await audited(gatehouse, 'api_key.created', `api_key:${key.id}`, { name: key.name, client_id: key.clientId, scopes: key.scopes })
      printResult(
        !!flags.json,
        { ...presentApiKey(key), key: apiKey },
        `${recordText(presentApiKey(key))}\n\nkey ${apiKey}\n\nThe key is shown only now. Store it safely.`,
      )
    })
  })

apiKeys
  .command('list')
  .description('list API keys')
  .option('--client <id>', "only this client's keys")
  .option('--limit <n>', 'page size', '100')
  .option('--after <id>', 'list keys after this id')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (flags: Common & { client?: string; limit: string; after?: string }) => {
    await withGatehouse(flags, async (gatehouse) => {
      const list = await gatehouse.apiKeys.list({
        limit: Number(flags.limit),
        ...(flags.after ? { after: flags.after } : {}),
        ...(flags.client ? { clientId: flags.client } : {}),
      })
      const rows = list.map(presentApiKey)
      printResult(!!flags.json, { api_keys: rows }, table(rows, ['id', 'name', 'client_id', 'scopes', 'expires_at', 'revoked_at']))
    })
  })

apiKeys
  .command('revoke <id>')
  .description('revoke an API key and the refresh tokens it gave out')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (id: string, flags: Common) => {
    await withGatehouse(flags, async (gatehouse) => {
      if (!(await gatehouse.apiKeys.revoke(id))) fail(`no API key with id ${id}`)
      await audited(gatehouse, 'api_key.revoked', `api_key:${id}`)
      printResult(!!flags.json, { revoked: id }, `revoked API key ${id}`)
    })
  })

// ── keys ───────────────────────────────────────────────────────────────────
const keys = program.command('keys').description('manage token signing keys')

keys
  .command('list')
  .description('list signing keys')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (flags: Common) => {
    await withGatehouse(flags, async (gatehouse) => {
      const list = gatehouse.keys.describe().map((key) => ({
        ...key,
        createdAt: new Date(key.createdAt).toISOString(),
        retiredAt: key.retiredAt === null ? null : new Date(key.retiredAt).toISOString(),
      }))
      printResult(!!flags.json, { keys: list }, table(list, ['kid', 'alg', 'active', 'published', 'createdAt', 'retiredAt']))
    })
  })

keys
  .command('rotate')
  .description('add a new signing key of each algorithm (or of --alg); each old one keeps verifying until its tokens expire')
  .addOption(new Option('--alg <alg>', 'rotate only the key of this algorithm').choices(SIGNING_ALGS))
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (flags: Common & { alg?: SigningAlg }) => {
    await withGatehouse(flags, async (gatehouse) => {
      const kids = await gatehouse.keys.rotate(flags.alg)
      for (const kid of kids) await audited(gatehouse, 'signing_key.rotated', `signing_key:${kid}`)
      const described = gatehouse.keys.describe()
      const rotated = kids.map((kid) => ({ kid, alg: described.find((key) => key.kid === kid)?.alg }))
      printResult(!!flags.json, { keys: rotated }, rotated.map((key) => `new active ${String(key.alg)} signing key ${key.kid}`).join('\n'))
    })
  })

// ── admin ──────────────────────────────────────────────────────────────────
const admin = program.command('admin').description('management API access')

admin
  .command('create-token')
  .description('print an operator token for the management API (creates the gatehouse-operator client and puts it on the operator list if missing)')
  .option('--ttl <seconds>', 'token lifetime (default 3600, at most GATEHOUSE_MAX_ACCESS_TOKEN_TTL)', seconds('--ttl'))
  .addOption(new Option('--role <role>', 'admin (client gatehouse-operator) or read-only (client gatehouse-operator-read-only)').choices(OPERATOR_ROLES).default('admin'))
  .option('--issuer <url>', "the server's issuer (env GATEHOUSE_ISSUER; default http://HOST:PORT, as serve)")
  .option('--host <host>', "the server's host, for the default issuer (env GATEHOUSE_HOST)")
  .option('--port <port>', "the server's port, for the default issuer (env GATEHOUSE_PORT)")
  .option('--config <file>', "the server's JSON config file (env GATEHOUSE_CONFIG)")
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (flags: Common & ServerSettings & { ttl?: number; role: OperatorRole }) => {
    await withGatehouse(flags, async (gatehouse) => {
      const issued = await createOperatorToken(
        { store: gatehouse.store, clients: gatehouse.clients, operators: gatehouse.operators, tokens: gatehouse.tokens, audit: gatehouse.audit, maxAccessTokenTtl: gatehouse.config.maxAccessTokenTtl },
        { role: flags.role, ...(flags.ttl !== undefined ? { ttl: flags.ttl } : {}) },
      )
      printResult(
        !!flags.json,
        { access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn, client_id: issued.clientId, role: issued.role, issuer: gatehouse.config.issuer, audience: issued.audience },
        `${issued.accessToken}\n\n${issued.role} operator token for ${issued.audience}, expires in ${issued.expiresIn} s. Use it as: curl -H "Authorization: Bearer $TOKEN" ${issued.audience}/clients`,
      )
    })
  })

// ── operators ──────────────────────────────────────────────────────────────
const operators = program.command('operators').description('the operator list: users and clients that may use the management API')

type SubjectFlags = Common & { user?: string; client?: string }

/** Exactly one of --user and --client. */
function subjectOf(flags: SubjectFlags): { kind: OperatorKind; id: string } {
  if ((flags.user === undefined) === (flags.client === undefined)) fail('name exactly one of --user EMAIL_OR_ID and --client ID', 2)
  return flags.user !== undefined ? { kind: 'user', id: flags.user } : { kind: 'client', id: flags.client ?? '' }
}

operators
  .command('add')
  .description('put a user or a client on the operator list, or change its role')
  .option('--user <emailOrId>', 'a user, by username or id (for password-grant tokens)')
  .option('--client <id>', 'a client (for client_credentials tokens)')
  .addOption(new Option('--role <role>', 'admin: everything; read-only: GET and HEAD only').choices(OPERATOR_ROLES).makeOptionMandatory())
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (flags: SubjectFlags & { role: OperatorRole }) => {
    const subject = subjectOf(flags)
    await withGatehouse(flags, async (gatehouse) => {
      const put = await gatehouse.operators.put(subject.kind, subject.id, flags.role)
      if (!put) fail(`no ${subject.kind} ${subject.id}`)
      if (put.previous?.role !== put.operator.role) {
        await audited(gatehouse, put.previous ? 'operator.role_changed' : 'operator.added', `${subject.kind}:${put.operator.id}`, { role: put.operator.role })
      }
      printResult(!!flags.json, presentOperator(put.operator), `${subject.kind}:${put.operator.id} is an operator (${put.operator.role})`)
    })
  })

operators
  .command('list')
  .description('list the operator list')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (flags: Common) => {
    await withGatehouse(flags, async (gatehouse) => {
      const rows = (await gatehouse.operators.list()).map(presentOperator)
      printResult(!!flags.json, { operators: rows }, table(rows, ['kind', 'id', 'role', 'created_at']))
    })
  })

operators
  .command('remove')
  .description('take a user or a client off the operator list; its tokens are refused from the next request on')
  .option('--user <emailOrId>', 'a user, by username or id')
  .option('--client <id>', 'a client')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (flags: SubjectFlags) => {
    const subject = subjectOf(flags)
    await withGatehouse(flags, async (gatehouse) => {
      const removed = await gatehouse.operators.remove(subject.kind, subject.id)
      if (!removed) fail(`${subject.kind} ${subject.id} is not an operator`)
      await audited(gatehouse, 'operator.removed', `${subject.kind}:${removed.id}`, { role: removed.role })
      printResult(!!flags.json, { removed: presentOperator(removed) }, `${subject.kind}:${removed.id} is no longer an operator`)
    })
  })

// ── apply / export: configuration as code (docs/config-as-code.md) ─────────
/** The server config file that holds dialect settings: --config, else GATEHOUSE_CONFIG. */
const serverConfigFile = (flag: string | undefined): string | undefined => flag ?? (process.env.GATEHOUSE_CONFIG || undefined)

program
  .command('apply')
  .description('make the server match a configuration file (clients, APIs and scopes, operators, dialects): create what is missing, update what differs')
  .requiredOption('-f, --file <file>', 'the YAML file (docs/config-as-code.md; schema: schema/gatehouse.schema.json)')
  .option('--dry-run', 'print the changes (field: old → new) and change nothing')
  .option('--prune', 'also remove the clients, APIs, scopes and operator entries a section of the file does not name (never users)')
  .option('--config <file>', 'the server JSON config file that dialect settings are written to (env GATEHOUSE_CONFIG)')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (flags: Common & { file: string; dryRun?: boolean; prune?: boolean; config?: string }) => {
    let text: string
    try {
      text = readFileSync(flags.file, 'utf8')
    } catch (error) {
      fail(`cannot read ${flags.file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 2)
    }
    const { declaration, lineOf } = parseDeclarationFile(text, flags.file)
    const at = (path: DeclarationPath, message: string): string => `${flags.file}:${lineOf(path)}: ${pathText(path)}: ${message}`
    // Secrets come from the environment, are checked here and are never printed.
    const secretProblems = (declaration.clients ?? []).flatMap((client, index) => {
      if (client.secretFromEnv === undefined) return []
      const secret = process.env[client.secretFromEnv]
      if (secret === undefined || secret === '') return [at(['clients', index, 'secretFromEnv'], `environment variable ${client.secretFromEnv} is not set`)]
      if (secret.length < MIN_CHOSEN_SECRET_LENGTH) return [at(['clients', index, 'secretFromEnv'], `the secret in ${client.secretFromEnv} is shorter than ${MIN_CHOSEN_SECRET_LENGTH} characters`)]
      return []
    })
    if (secretProblems.length > 0) fail(secretProblems.join('\n'), 2)
    const secretFrom = (variable: string): string => process.env[variable] ?? ''
    const configFile = serverConfigFile(flags.config)
    let desiredDialects: Record<string, unknown> | undefined
    try {
      desiredDialects = declaration.dialects ? resolveDialectsSection(declaration.dialects, flags.file) : undefined
    } catch (error) {
      if (error instanceof DialectConfigError) fail(at(['dialects'], error.message.replace(`config file ${flags.file}: `, '')), 2)
      throw error
    }
    // Not --config: the file may not exist yet (apply writes it), and it only holds dialect settings.
    await withGatehouse({ database: flags.database }, async (gatehouse) => {
      const current = await readServerState(gatehouse, declaration, { dialects: dialectsOfConfigFile(configFile), secret: secretFrom })
      let plan: Plan
      try {
        plan = planChanges(declaration, current, { prune: flags.prune === true, ...(desiredDialects ? { desiredDialects } : {}) })
      } catch (error) {
        if (error instanceof PlanError) fail(error.problems.map((problem) => at(problem.path, problem.message)).join('\n'), 2)
        throw error
      }
      if (!flags.dryRun && configFile === undefined && plan.changes.some((change) => change.kind === 'dialects')) {
        fail(at(['dialects'], 'dialect settings live in the server config file: name it with --config FILE (or GATEHOUSE_CONFIG), the file serve reads'), 2)
      }
      const summary = plan.changes.length === 0 ? `nothing to change: the server matches ${flags.file}` : countText(plan.changes)
      if (flags.dryRun || plan.changes.length === 0) {
        const body = planText(plan)
        printResult(!!flags.json, { dry_run: flags.dryRun === true, ...planJson(plan), applied: 0 }, `${body ? `${body}\n` : ''}${summary}${flags.dryRun && plan.changes.length > 0 ? ' (dry run: nothing was changed)' : ''}`)
        return
      }
      let secrets: GeneratedSecret[]
      try {
        ;({ secrets } = await applyPlan(
          {
            clients: gatehouse.clients,
            apis: gatehouse.apis,
            operators: gatehouse.operators,
            audit: (action, target, details) => audited(gatehouse, action, target, details),
            secretFrom,
            writeDialects: async (settings) => writeDialectsToConfigFile(configFile ?? '', settings),
          },
          plan.changes,
        ))
      } catch (error) {
        if (!(error instanceof ApplyError)) throw error
        // What was done stays done (each change is audited); a generated secret is still shown once.
        const done = error.applied.map((change) => `done: ${changeSubject(change)} (${change.action})`)
        const shown = error.secrets.map((secret) => `client_secret of ${secret.clientId}: ${secret.clientSecret} (shown only now)`)
        if (!flags.json && done.length + shown.length > 0) process.stdout.write(`${[...done, ...shown].join('\n')}\n`)
        const refused = [ConfigError, ClientValidationError, ApiValidationError, OperatorValidationError, DuplicateError].some((kind) => error.cause instanceof kind)
        fail(`${changeSubject(error.failed)} (${error.failed.action}): ${error.message}${done.length > 0 ? `; ${done.length} earlier change(s) were applied` : ''}`, refused ? 2 : 1)
      }
      const shown = secrets.map((secret) => `client_secret of ${secret.clientId}: ${secret.clientSecret}`)
      printResult(
        !!flags.json,
        { dry_run: false, ...planJson(plan), applied: plan.changes.length, client_secrets: secrets.map((secret) => ({ client_id: secret.clientId, client_secret: secret.clientSecret })) },
        `${planText(plan)}\napplied ${summary}${shown.length > 0 ? `\n\n${shown.join('\n')}\n\nThese secrets are shown only now. Store them safely.` : ''}`,
      )
    })
  })

program
  .command('export')
  .description('write the current clients, APIs and scopes, operators and dialect settings as an apply file (no secrets)')
  .option('-o, --output <file>', 'write to this file instead of stdout')
  .option('--issuer <url>', "the server's issuer, for the schema URL in the file (env GATEHOUSE_ISSUER; default http://HOST:PORT, as serve)")
  .option('--config <file>', 'the server JSON config file holding dialect settings (env GATEHOUSE_CONFIG)')
  .addOption(databaseOption())
  .addOption(jsonOption())
  .action(async (flags: Common & { output?: string; issuer?: string; config?: string }) => {
    await withGatehouse({ database: flags.database, issuer: flags.issuer, config: flags.config }, async (gatehouse) => {
      const declaration: Declaration = {}
      const current = await readServerState(gatehouse, declaration, { dialects: dialectsOfConfigFile(serverConfigFile(flags.config)), secret: () => '' })
      const exported = exportState({ ...current, dialects: dialectsSection(current.dialects) })
      const schemaUrl = `${gatehouse.config.issuer.replace(/\/+$/, '')}${SCHEMA_PATH}`
      const text = `# yaml-language-server: $schema=${schemaUrl}\n# gatehouse export: apply with gatehouse apply -f FILE (docs/config-as-code.md). No secrets are in this file.\n${stringifyYaml(exported, { lineWidth: 0 })}`
      const counts = `${exported.clients?.length ?? 0} client(s), ${exported.apis?.length ?? 0} API(s), ${exported.operators?.length ?? 0} operator entr(ies)`
      if (flags.output === undefined) {
        process.stdout.write(flags.json ? `${JSON.stringify(exported)}\n` : text)
        return
      }
      writeFileSync(flags.output, text)
      printResult(!!flags.json, { file: flags.output, clients: exported.clients?.length ?? 0, apis: exported.apis?.length ?? 0, operators: exported.operators?.length ?? 0 }, `wrote ${flags.output}: ${counts}`)
    })
  })

program.parseAsync().catch((error: unknown) => {
  // --help and --version end through exitOverride too: they succeeded.
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version') process.exit(0)
    // Commander has already said what was wrong (with the command's help) unless --json asked for JSON.
    if (!jsonRequested()) process.exit(2)
    fail(error.message.replace(/^error: /, ''), 2)
  }
  if (error instanceof ConfigError || error instanceof OperatorTokenError || error instanceof OperatorValidationError || error instanceof ClientValidationError || error instanceof UserValidationError || error instanceof ApiKeyValidationError || error instanceof ApiValidationError || error instanceof DuplicateError || error instanceof DeclarationFileError || error instanceof DialectConfigError) {
    fail(error.message, 2)
  }
  fail(error instanceof Error ? error.message : String(error))
})
