/**
 * `gatehouse-verify/express`: an Express (or plain node:http / connect) middleware that lets only
 * requests with a valid Gatehouse access token through, answering RFC 6750 §3 errors otherwise.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { BearerTokenError } from './bearer.js'
import type { VerifiedToken, Verifier } from './verify.js'

declare global {
  // Express's own augmentation point, so `req.accessToken` is typed in handlers.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified token, set by the gatehouse middleware. */
      accessToken?: VerifiedToken
    }
  }
}

/**
 * Options of {@link expressBearerAuth}.
 *
 * @example
 * ```ts
 * app.use('/admin', expressBearerAuth({ verifier, realm: 'admin', requiredScopes: ['management-api'] }))
 * ```
 */
export interface ExpressBearerAuthOptions {
  verifier: Verifier
  /** The `realm` of the challenge (RFC 6750 §3). */
  realm?: string
  /** Scopes the routes behind this middleware need, on top of the verifier's. */
  requiredScopes?: readonly string[]
  /**
   * The public base URL clients address (e.g. `https://api.example.com`), against which a DPoP
   * proof's `htu` is checked (RFC 9449 §4.3): needed behind a proxy or a TLS terminator. Default:
   * Express's `req.protocol` (or the socket's) and the Host header.
   */
  publicUrl?: string
}

/**
 * The request as the middleware sees it: Express's Request is one.
 *
 * @example
 * ```ts
 * const handler = (req: BearerAuthRequest, res: ServerResponse) => res.end(req.accessToken?.subject)
 * ```
 */
export type BearerAuthRequest = IncomingMessage & { originalUrl?: string; protocol?: string; accessToken?: VerifiedToken }

/**
 * The middleware's signature, usable with Express, connect or plain node:http.
 *
 * @example
 * ```ts
 * const auth: BearerAuthMiddleware = expressBearerAuth({ verifier })
 * http.createServer((req, res) => auth(req, res, (error) => (error ? res.writeHead(500).end() : res.end('ok'))))
 * ```
 */
export type BearerAuthMiddleware = (request: BearerAuthRequest, response: ServerResponse, next: (error?: unknown) => void) => void

/**
 * Builds the middleware. A valid token is put on `req.accessToken`; otherwise it answers 400
 * invalid_request, 401 invalid_token or 403 insufficient_scope with the matching
 * `WWW-Authenticate` (a DPoP challenge for a DPoP-bound token without its proof, RFC 9449 §7.1), and no token at all a 401 with only `Bearer realm="…"` (RFC 6750 §3.1).
 * Errors that are not the token's fault (the JWKS cannot be fetched) go to `next(error)`.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { createVerifier } from 'gatehouse-verify'
 * import { expressBearerAuth } from 'gatehouse-verify/express'
 *
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'worklist-api' })
 * const app = express()
 * app.use('/api', expressBearerAuth({ verifier, realm: 'worklist', requiredScopes: ['integrated-api'] }))
 * app.get('/api/records', (req, res) => res.json({ for: req.accessToken?.subject }))
 * ```
 */
export function expressBearerAuth(options: ExpressBearerAuthOptions): BearerAuthMiddleware {
  const { verifier, realm } = options
  const requiredScopes = [...(options.requiredScopes ?? [])]
  return (request, response, next) => {
    const fullPath = request.originalUrl ?? request.url ?? '/'
    const bearerRequest = {
      authorization: request.headers.authorization,
      queryToken: hasQueryToken(fullPath),
      dpop: { proof: request.headers.dpop, method: request.method ?? 'GET', url: requestUrl(request, fullPath, options.publicUrl) },
    }
    verifier.verifyRequest(bearerRequest, { requiredScopes }).then(
      (token) => {
        request.accessToken = token
        next()
      },
      (error: unknown) => {
        if (!(error instanceof BearerTokenError)) return next(error)
        response.statusCode = error.status
        response.setHeader('www-authenticate', error.challenge(realm))
        const body = error.body()
        if (body === undefined) return response.end()
        response.setHeader('content-type', 'application/json; charset=utf-8')
        response.end(JSON.stringify(body))
      },
    )
  }
}

export default expressBearerAuth

/** RFC 9449 §4.3: the URL the client addressed, without the query (it is ignored in `htu`). */
function requestUrl(request: BearerAuthRequest, fullPath: string, publicUrl: string | undefined): string {
  const path = fullPath.split('?')[0] ?? '/'
  if (publicUrl !== undefined) return publicUrl.replace(/\/+$/, '') + path
  const encrypted = (request.socket as { encrypted?: boolean } | undefined)?.encrypted === true
  const protocol = typeof request.protocol === 'string' ? request.protocol : encrypted ? 'https' : 'http'
  return `${protocol}://${request.headers.host ?? 'localhost'}${path}`
}

function hasQueryToken(url: string): boolean {
  const start = url.indexOf('?')
  return start !== -1 && new URLSearchParams(url.slice(start + 1)).has('access_token')
}
