import { randomBytes } from 'node:crypto'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import formbody from '@fastify/formbody'
import type { Logger } from 'pino'
import type { Config } from '../config.js'
import { RFC6749_POLICY } from '../core/types.js'
import type { Gatehouse } from '../gatehouse.js'
import { send, type ErrorShaper, type WireAnswer } from './dialects/dialect.js'
import { rfc6749 } from './dialects/rfc6749.js'
import { UNSUPPORTED_BODY } from './parameters.js'
import { buildMetadata, buildOpenIdConfiguration, registerDiscoveryRoutes } from './routes/discovery.js'
import { registerHealthRoutes } from './routes/health.js'
import { registerSeedDialects, type NotFoundOwner } from './routes/dialects.js'
import { problemAnswer, ProblemError, problemShaper } from './routes/admin/problem.js'
import { OAuthError } from '../core/errors.js'
import { ADMIN_PREFIX, adminApi } from './routes/admin/index.js'
import { registerOpenApi } from './routes/reference/openapi.js'
import { registerDocsPage } from './routes/reference/docs-page.js'
import { registerAssets } from './routes/console/assets.js'
import { registerConsole } from './routes/console/index.js'
import { registerLandingPage } from './routes/landing.js'
import { AUTHORIZE_PATH, PAR_PATH, registerHostedPages } from './routes/hosted/index.js'
import { LOGOUT_PATH } from './routes/hosted/logout.js'
import { DEVICE_AUTHORIZATION_PATH } from './routes/hosted/device.js'
import { userInfoHandler } from './routes/identityserver.js'
import { identityserverUserInfo } from './dialects/identityserver.js'
import { registerIntrospectionRoute } from './routes/introspect.js'
import { registerJwksRoute } from './routes/jwks.js'
import { registerSchemaRoute } from './routes/schemas.js'
import { registerRevocationRoute } from './routes/revoke.js'
import { registerTokenRoute } from './routes/token.js'
import { registerMetrics } from './routes/metrics.js'
import { registerAddressRateLimit } from './rate-limit.js'
import { RequestLogger } from './request-logger.js'
import { AccessLog } from './access-log.js'
import { accessLogger } from '../logger.js'
import { isClusterWorker } from '../cluster.js'
import { clusterMetricsCollector } from '../metrics/cluster-metrics.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The dialect whose error shape this route answers in. */
    shaper?: ErrorShaper
    /** Carries client credentials or tokens: refused over plain HTTP when config.requireTls is on. */
    requiresTls?: boolean
  }
}

export const STANDARD_PATHS = {
  token: '/oauth/token',
  introspection: '/oauth/introspect',
  revocation: '/oauth/revoke',
  jwks: '/.well-known/jwks.json',
  authorization: AUTHORIZE_PATH,
  pushedAuthorizationRequest: PAR_PATH,
  endSession: LOGOUT_PATH,
  userinfo: '/oauth/userinfo',
  deviceAuthorization: DEVICE_AUTHORIZATION_PATH,
} as const

/** The metadata names what the standard token endpoint serves: api_key is Canary's, not its. */
const standardGrantTypes = (grants: string[]): string[] => grants.filter((grant) => RFC6749_POLICY.grantTypes?.some((served) => served === grant))

/**
 * Fastify's `trustProxy` (@fastify/proxy-addr) walks X-Forwarded-For from the right, from the
 * socket address, and stops at the first address it does not trust. `true` would trust every
 * hop and so answer the leftmost address, which the client writes itself; so a list trusts the
 * configured proxies, and the plain switch trusts one hop (the client is the rightmost entry).
 */
function proxyTrust(config: Pick<Config, 'trustProxy' | 'trustedProxies'>): string[] | ((address: string, hop: number) => boolean) | false {
  if (config.trustedProxies.length > 0) return config.trustedProxies
  return config.trustProxy ? (_address, hop) => hop < 1 : false
}

/** Log a request by method and path only: query strings and headers may carry secrets. */
const requestSerializer = (request: FastifyRequest): Record<string, unknown> => ({
  method: request.method,
  path: request.url.split('?')[0],
  remoteAddress: request.ip,
})

/**
 * Request ids: a random prefix per app (12 base64url characters, so two processes or workers
 * do not share ids) and a counter. An id names a request in the logs and is no secret, so it
 * need not be unpredictable; this costs a string concatenation where a UUID took a random
 * draw and its formatting on every request.
 */
function requestIds(): () => string {
  const prefix = randomBytes(9).toString('base64url')
  let counter = 0
  return () => `${prefix}-${(++counter).toString(36)}`
}

export async function buildApp(gatehouse: Gatehouse, logger: Logger): Promise<FastifyInstance> {
  const requestLogs = logger.child({}, { serializers: { req: requestSerializer as never } })
  const nextRequestId = requestIds()
  const app: FastifyInstance = Fastify({
    loggerInstance: requestLogs as FastifyBaseLogger,
    // The loggers Fastify hands over are pino's (this loggerInstance and its children).
    childLoggerFactory: (parent, bindings, options) => new RequestLogger(parent as Logger, bindings, options),
    logController: new AccessLog(accessLogger(logger)),
    genReqId: (request) => {
      const given = request.headers['x-request-id']
      return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : nextRequestId()
    },
    bodyLimit: 64 * 1024,
    // --tls-cert/--tls-key: serve HTTPS directly (RFC 6749 §1.6, §3.2 ask for TLS on the token endpoint).
    ...(gatehouse.config.tls ? { https: { cert: gatehouse.config.tls.cert, key: gatehouse.config.tls.key } } : {}),
    return503OnClosing: true,
    // Behind a TLS-terminating proxy the client address comes from X-Forwarded-For (per-IP limits, audit).
    trustProxy: proxyTrust(gatehouse.config),
    // A path the router cannot take (a bad escape, a segment over maxParamLength): under
    // /admin/v1 a problem like every management answer; elsewhere Fastify's own answer, as before.
    frameworkErrors: (error, request, reply) => {
      if (request.url.startsWith(`${ADMIN_PREFIX}/`)) return send(reply, problemAnswer('validation', 'The path could not be read: a segment is malformed or too long.'))
      const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400
      return send(reply, { status, headers: {}, body: { error: 'Bad Request', code: error.code, message: error.message, statusCode: status } })
    },
  })

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })
  // Tracing configured: a server span per request (hooks first, so every later step is inside it).
  gatehouse.tracing?.instrument(app)

  await app.register(formbody)
  // Fastify reads text/plain by default; token routes take only forms and JSON.
  app.removeContentTypeParser('text/plain')
  // Any other content type is read (bounded by bodyLimit) and refused by the dialect, in
  // its own error shape, instead of Fastify's generic 415.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, UNSUPPORTED_BODY))
  // First: its onRoute hook must see every route registered below (issue 6).
  await registerOpenApi(app, { issuer: gatehouse.config.issuer, version: '0.1.0' })

  // A dialect may own the 404s under a prefix (the wrapped dialect: any unknown /v1/ path).
  let notFoundOwners: NotFoundOwner[] = []
  const notFound = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const path = request.url.split('?')[0] ?? ''
    const owner = notFoundOwners.find(({ prefix }) => path.startsWith(prefix))
    if (owner?.shaper.formatNotFound) return send(reply, owner.shaper.formatNotFound(request))
    return reply.code(404).send({ error: 'not_found', error_description: `No route for ${request.method} ${path}.` })
  }

  app.setErrorHandler(async (error, request, reply) => {
    // No route matched: Fastify still read the body, but an unknown path is a 404 whatever it held.
    if (request.is404) return notFound(request, reply)
    const shaper = request.routeOptions.config.shaper ?? rfc6749
    const answer = withRequestId(shaper.formatError(error, request), request.id)
    // An outage fails every request: one short warning each, not a stack trace each.
    if (answer.status === 503) request.log.warn({ reason: error instanceof Error ? error.message : String(error) }, 'service unavailable (database unreachable)')
    else if (answer.status >= 500) request.log.error({ err: error }, 'request failed')
    else if (error instanceof Error && 'debug' in error && error.debug) request.log.info({ reason: error.debug }, error.message)
    return send(reply, answer)
  })

  app.setNotFoundHandler(notFound)

  if (gatehouse.config.requireTls) registerTlsRequirement(app)
  refuseNulCharacters(app)
  // Issue 7: per-address rate limit and metrics on every dialect route (hooks before the routes).
  registerAddressRateLimit(app, gatehouse.limiter, gatehouse.config.limits.ip, () => gatehouse.metrics.refused('ip'))
  if (gatehouse.config.metrics) {
    // In cluster mode a scrape answers for all workers (summed by the primary).
    const collect = isClusterWorker() ? clusterMetricsCollector(gatehouse.metrics.registry) : undefined
    registerMetrics(app, gatehouse.metrics, { token: gatehouse.config.metricsToken, excludePrefix: ADMIN_PREFIX, ...(collect ? { collect } : {}) })
  }

  const { engine, keys, config, store } = gatehouse
  registerTokenRoute(app, engine, { path: STANDARD_PATHS.token, allowGet: config.allowGetTokenRequests, issuer: config.issuer })
  registerIntrospectionRoute(app, engine, STANDARD_PATHS.introspection)
  registerRevocationRoute(app, engine, STANDARD_PATHS.revocation)
  registerJwksRoute(app, keys, STANDARD_PATHS.jwks)
  const userinfo = userInfoHandler(engine)
  app.get(STANDARD_PATHS.userinfo, { config: { shaper: identityserverUserInfo, requiresTls: true } }, userinfo)
  app.post(STANDARD_PATHS.userinfo, { config: { shaper: identityserverUserInfo, requiresTls: true } }, userinfo)
  const metadata = buildMetadata(config.issuer, STANDARD_PATHS, standardGrantTypes(engine.supportedGrantTypes), [])
  registerDiscoveryRoutes(app, config.issuer, metadata, buildOpenIdConfiguration(metadata, config.issuer, STANDARD_PATHS))
  registerHealthRoutes(app, store)
  registerSchemaRoute(app, config.issuer)
  // The management API answers its unknown paths as problems, even before a token is checked.
  notFoundOwners = [{ prefix: `${ADMIN_PREFIX}/`, shaper: problemShaper }, ...(await registerSeedDialects(app, engine, config.dialects))]
  await app.register(adminApi, { prefix: ADMIN_PREFIX, gatehouse })
  registerAssets(app)
  registerDocsPage(app)
  await registerConsole(app, gatehouse, logger)
  await registerHostedPages(app, gatehouse, logger)
  registerLandingPage(app, config.issuer)
  return app
}

/** ASCII only: error_description allows no §, RFC 6749 §5.2. */
export const TLS_REQUIRED_DESCRIPTION = 'TLS is required (RFC 6749 section 3.2 / 10.9): send this request over https.'

/**
 * RFC 6749 §3.2 and §10.9, RFC 7662 §4, RFC 7009 §5: credentials and tokens travel only over
 * TLS. A route marked `requiresTls` refuses a request that reached it over plain HTTP, unless
 * a trusted proxy (trustProxy) says in X-Forwarded-Proto that the client spoke https to it:
 * Fastify's `request.protocol` reads that header only from a trusted peer. The refusal is an
 * error, so the route's dialect shapes it (the management API: a 403 problem). Runs first, so
 * nothing is read or counted before it.
 */
function registerTlsRequirement(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.config.requiresTls !== true || request.protocol === 'https') return done()
    if (request.routeOptions.config.shaper === problemShaper) return done(new ProblemError('forbidden', TLS_REQUIRED_DESCRIPTION))
    done(new OAuthError('invalid_request', { description: TLS_REQUIRED_DESCRIPTION, debug: 'plain HTTP request refused (GATEHOUSE_REQUIRE_TLS)' }))
  })
}

/** Whether a parsed parameter, path segment or JSON value holds a NUL character (bounded walk). */
function holdsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000')
  if (depth > 8 || value === null || typeof value !== 'object') return false
  return Object.entries(value).some(([key, item]) => key.includes('\u0000') || holdsNul(item, depth + 1))
}

/**
 * No identifier, secret or name of Gatehouse holds a NUL character, and PostgreSQL text cannot
 * store one (it would fail the query: a 500). A request that carries one — in the path, the
 * query or the body — is refused as malformed, in the route's dialect, before any handler.
 */
function refuseNulCharacters(app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => {
    if (!holdsNul(request.params) && !holdsNul(request.query) && !holdsNul(request.body)) return done()
    if (request.routeOptions.config.shaper === problemShaper) return done(new ProblemError('validation', 'The request contains a NUL character.'))
    done(Object.assign(new Error('The request contains a NUL character.'), { statusCode: 400 }))
  })
}

/** A 5xx body names the request id (also in `X-Request-Id` and every log line) so a report can be traced. */
function withRequestId(answer: WireAnswer, requestId: string): WireAnswer {
  const body = answer.body
  if (answer.status < 500 || body === null || typeof body !== 'object' || Array.isArray(body)) return answer
  return { ...answer, body: { ...body, request_id: requestId } }
}
