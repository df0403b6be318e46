/**
 * RFC 6750 on the resource server's side: reading `Authorization: Bearer …` (§2.1) and
 * answering with the right status and `WWW-Authenticate` challenge (§3).
 */

/**
 * RFC 6750 §3.1 error codes, and RFC 9449 §7.1's invalid_dpop_proof.
 *
 * @example
 * ```ts
 * const code: BearerErrorCode | undefined = error instanceof BearerTokenError ? error.code : undefined
 * ```
 */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof'

/**
 * Why a token check failed, for logs: the wire only says `invalid_token` with a short
 * description, so a caller learns nothing about which check it failed.
 *
 * @example
 * ```ts
 * if (error instanceof BearerTokenError) logger.info({ reason: error.reason }, 'token refused')
 * ```
 */
export type BearerFailureReason =
  | 'missing'
  | 'malformed'
  | 'expired'
  | 'not_yet_valid'
  | 'issuer'
  | 'audience'
  | 'typ'
  | 'algorithm'
  | 'unknown_key'
  | 'signature'
  | 'claims'
  | 'inactive'
  | 'opaque_not_supported'
  | 'scope'
  /** RFC 9449: the DPoP proof failed a check (its `description` says which). */
  | 'dpop_proof'
  /** RFC 9449: a DPoP-bound token as Bearer, an unbound one as DPoP, or a proof by another key. */
  | 'dpop_binding'

const STATUS: Record<BearerErrorCode, number> = { invalid_request: 400, invalid_token: 401, insufficient_scope: 403, invalid_dpop_proof: 401 }

/** RFC 9449 §7.1: the algorithms a DPoP challenge names (`algs`). */
const DPOP_ALGS = 'ES256 RS256 PS256 EdDSA'

/**
 * A request the resource server refuses, with its RFC 6750 §3 answer. `code` is undefined when
 * no token was presented at all: §3.1 says the challenge then carries no error code.
 *
 * @example
 * ```ts
 * import { BearerTokenError } from 'gatehouse-verify'
 * try {
 *   await verifier.verifyRequest(request.headers.authorization)
 * } catch (error) {
 *   if (!(error instanceof BearerTokenError)) throw error // e.g. the JWKS could not be fetched
 *   response.writeHead(error.status, { 'www-authenticate': error.challenge('worklist') }).end()
 * }
 * ```
 */
export class BearerTokenError extends Error {
  readonly code: BearerErrorCode | undefined
  /** 400, 401 or 403 (RFC 6750 §3.1). */
  readonly status: number
  /** The `error_description` sent: fixed wording, no token content, no quotes or backslashes. */
  readonly description: string | undefined
  /** Which check failed (for logs, not for the wire). */
  readonly reason: BearerFailureReason
  /** For insufficient_scope: the scopes the resource needs (sent as the challenge's `scope`). */
  readonly requiredScope: string | undefined
  /**
   * `DPoP` when the refusal is about DPoP (RFC 9449 §7.1: a proof, a DPoP-bound token): the
   * challenge is then a DPoP one with `algs`, followed by a bare Bearer one, since the verifier
   * takes unbound bearer tokens too.
   */
  readonly scheme: 'Bearer' | 'DPoP'

  constructor(code: BearerErrorCode | undefined, reason: BearerFailureReason, description?: string, options: { requiredScope?: string; cause?: unknown; scheme?: 'Bearer' | 'DPoP' } = {}) {
    super(code === undefined ? 'no bearer token' : `${code}: ${description ?? reason} (${reason})`, { cause: options.cause })
    this.name = 'BearerTokenError'
    this.code = code
    this.status = code === undefined ? 401 : STATUS[code]
    this.description = description
    this.reason = reason
    this.requiredScope = options.requiredScope
    this.scheme = options.scheme ?? (code === 'invalid_dpop_proof' ? 'DPoP' : 'Bearer')
  }

  /**
   * The `WWW-Authenticate` value (RFC 6750 §3), e.g. `Bearer realm="api", error="invalid_token", …`;
   * for a DPoP refusal (RFC 9449 §7.1) `DPoP realm="api", error="invalid_dpop_proof", …, algs="ES256 …", Bearer realm="api"`.
   */
  challenge(realm?: string): string {
    const parameters: string[] = []
    const realmParameter = realm !== undefined ? `realm="${quotable(realm)}"` : undefined
    if (realmParameter !== undefined) parameters.push(realmParameter)
    if (this.code !== undefined) parameters.push(`error="${this.code}"`)
    if (this.description !== undefined) parameters.push(`error_description="${quotable(this.description)}"`)
    if (this.requiredScope !== undefined) parameters.push(`scope="${quotable(this.requiredScope)}"`)
    if (this.scheme === 'DPoP') {
      parameters.push(`algs="${DPOP_ALGS}"`)
      return `DPoP ${parameters.join(', ')}, ${realmParameter === undefined ? 'Bearer' : `Bearer ${realmParameter}`}`
    }
    return parameters.length === 0 ? 'Bearer' : `Bearer ${parameters.join(', ')}`
  }

  /** The JSON body sent beside the challenge, or undefined when there is none (no token presented). */
  body(): { error: BearerErrorCode; error_description?: string } | undefined {
    if (this.code === undefined) return undefined
    return this.description === undefined ? { error: this.code } : { error: this.code, error_description: this.description }
  }
}

/** RFC 6750 §3: quoted values are %x20-21 / %x23-5B / %x5D-7E, so no `"`, `\` or controls. */
function quotable(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '')
}

/** RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/**
 * What the framework adapters know about a request.
 *
 * @example
 * ```ts
 * await verifier.verifyRequest({ authorization: req.headers.authorization, queryToken: url.searchParams.has('access_token') })
 * ```
 */
export interface BearerRequest {
  authorization: string | undefined
  /** Whether the query string carries `access_token` (RFC 6750 §2.3). */
  queryToken?: boolean
  /**
   * RFC 9449 §7: the `DPoP` header, the method and the absolute URL the client addressed, needed
   * for DPoP-bound tokens (`Authorization: DPoP …`). The Fastify plugin and the Express middleware fill them in.
   */
  dpop?: { proof: string | readonly string[] | undefined; method: string; url: string }
}

/**
 * Reads the access token of a request sent with the Bearer scheme (RFC 6750 §2.1) or the DPoP
 * scheme (RFC 9449 §7.1), with the same errors as {@link readBearerToken}.
 *
 * @example
 * ```ts
 * import { readAccessToken } from 'gatehouse-verify'
 * const { scheme, token } = readAccessToken({ authorization: 'DPoP eyJhbGciOi…' }) // 'DPoP', 'eyJhbGciOi…'
 * ```
 */
export function readAccessToken(request: BearerRequest): { scheme: 'Bearer' | 'DPoP'; token: string } {
  const header = request.authorization?.trim()
  if (!request.queryToken && header !== undefined && /^dpop(?: |$)/i.test(header)) {
    const token = header.slice(4).trim()
    if (token === '' || !B64TOKEN.test(token)) {
      throw new BearerTokenError('invalid_request', 'malformed', 'The Authorization header must be DPoP followed by one token', { scheme: 'DPoP' })
    }
    return { scheme: 'DPoP', token }
  }
  return { scheme: 'Bearer', token: readBearerToken(request) }
}

/**
 * Reads the bearer token of a request. No credentials, or another scheme (e.g. Basic), is a
 * challenge without an error code (§3.1); a Bearer header that is empty or malformed, or a token
 * in the query string, is invalid_request (§2.3 is a MAY that RFC 9700 §2.4 forbids: URLs are logged).
 *
 * @example
 * ```ts
 * import { readBearerToken } from 'gatehouse-verify'
 * const token = readBearerToken({ authorization: 'Bearer eyJhbGciOi…' }) // 'eyJhbGciOi…'
 * ```
 */
export function readBearerToken(request: BearerRequest): string {
  if (request.queryToken) {
    throw new BearerTokenError('invalid_request', 'malformed', 'Send the access token in the Authorization header, not in the URL')
  }
  const header = request.authorization?.trim()
  if (header === undefined || header === '') throw new BearerTokenError(undefined, 'missing')
  const space = header.indexOf(' ')
  const scheme = space === -1 ? header : header.slice(0, space)
  // RFC 7235 §2.1: the scheme is case-insensitive.
  if (scheme.toLowerCase() !== 'bearer') throw new BearerTokenError(undefined, 'missing')
  const token = space === -1 ? '' : header.slice(space + 1).trim()
  if (token === '' || !B64TOKEN.test(token)) {
    throw new BearerTokenError('invalid_request', 'malformed', 'The Authorization header must be Bearer followed by one token')
  }
  return token
}
