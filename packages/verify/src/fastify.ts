/**
 * `gatehouse-verify/fastify`: a Fastify plugin that lets only requests with a valid Gatehouse access
 * token through, answering RFC 6750 §3 errors otherwise.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { BearerTokenError } from './bearer.js'
import type { VerifiedToken, Verifier } from './verify.js'

/**
 * Per-route settings, under the route's `config.gatehouse`.
 *
 * @example
 * ```ts
 * app.get('/admin/stats', { config: { gatehouse: { scopes: ['management-api'] } } }, handler)
 * app.get('/healthz', { config: { gatehouse: { public: true } } }, handler)
 * ```
 */
export interface GatehouseRouteConfig {
  /** Scopes this route needs on top of the plugin's. */
  scopes?: readonly string[]
  /** Let requests through without a token (e.g. a health check). */
  public?: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified token, set by the gatehouse plugin (null on public routes). */
    accessToken: VerifiedToken | null
  }
  interface FastifyContextConfig {
    gatehouse?: GatehouseRouteConfig
  }
}

/**
 * Options of {@link fastifyBearerAuth}.
 *
 * @example
 * ```ts
 * await app.register(fastifyBearerAuth, { verifier, realm: 'worklist', requiredScopes: ['integrated-api'] } satisfies FastifyBearerAuthOptions)
 * ```
 */
export interface FastifyBearerAuthOptions {
  verifier: Verifier
  /** The `realm` of the challenge (RFC 6750 §3). */
  realm?: string
  /** Scopes every route of this context needs, on top of the verifier's. */
  requiredScopes?: readonly string[]
  /**
   * The public base URL clients address (e.g. `https://api.example.com`), against which a DPoP
   * proof's `htu` is checked (RFC 9449 §4.3): needed behind a proxy or a TLS terminator. Default:
   * the request's protocol and Host header (Fastify's `trustProxy` decides what those are).
   */
  publicUrl?: string
}

/**
 * Checks the bearer token of every request in the context it is registered in (it is not
 * encapsulated, like a fastify-plugin), before the body is read. The token is on
 * `request.accessToken`. Errors: 400 invalid_request, 401 invalid_token, 403
 * insufficient_scope, each with its `WWW-Authenticate`; a DPoP-bound token (RFC 9449) must come
 * as `Authorization: DPoP` with a valid `DPoP` proof, or it is a 401 with a DPoP challenge
 * (invalid_token / invalid_dpop_proof); no token at all is a 401 with only
 * `Bearer realm="…"` (RFC 6750 §3.1).
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { createVerifier } from 'gatehouse-verify'
 * import { fastifyBearerAuth } from 'gatehouse-verify/fastify'
 *
 * const app = Fastify()
 * await app.register(fastifyBearerAuth, {
 *   verifier: createVerifier({ issuer: 'https://auth.example.com', audience: 'worklist-api' }),
 *   realm: 'worklist',
 *   requiredScopes: ['integrated-api'],
 * })
 * app.get('/healthz', { config: { gatehouse: { public: true } } }, async () => ({ ok: true }))
 * app.get('/api/records', async (request) => ({ for: request.accessToken?.subject }))
 * ```
 */
export const fastifyBearerAuth: FastifyPluginAsync<FastifyBearerAuthOptions> = async (app, options) => {
  const { verifier, realm } = options
  const pluginScopes = [...(options.requiredScopes ?? [])]
  // Registered again in the same context (another scope set): the decorator is already there.
  if (!app.hasRequestDecorator('accessToken')) app.decorateRequest('accessToken', null)
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.routeOptions.config.gatehouse
    if (route?.public) return
    const requiredScopes = route?.scopes ? [...pluginScopes, ...route.scopes] : pluginScopes
    try {
      request.accessToken = await verifier.verifyRequest(
        {
          authorization: request.headers.authorization,
          queryToken: hasQueryToken(request.query),
          dpop: { proof: request.headers.dpop, method: request.method, url: requestUrl(request, options.publicUrl) },
        },
        { requiredScopes },
      )
    } catch (error) {
      if (!(error instanceof BearerTokenError)) throw error
      request.log.info({ reason: error.reason, code: error.code ?? 'none' }, 'bearer token refused')
      reply.code(error.status).header('www-authenticate', error.challenge(realm))
      const body = error.body()
      return body === undefined ? reply.send() : reply.send(body)
    }
  })
}

// Like fastify-plugin: the hook applies to the routes of the context that registers the plugin.
Object.assign(fastifyBearerAuth, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'gatehouse-bearer-auth' })

export default fastifyBearerAuth

/** RFC 9449 §4.3: the URL the client addressed, without the query (it is ignored in `htu`). */
function requestUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  const path = request.url.split('?')[0] ?? '/'
  return publicUrl !== undefined ? publicUrl.replace(/\/+$/, '') + path : `${request.protocol}://${request.host}${path}`
}

function hasQueryToken(query: unknown): boolean {
  return typeof query === 'object' && query !== null && 'access_token' in query
}
