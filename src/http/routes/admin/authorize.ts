import type { FastifyRequest } from 'fastify'
import type { Engine } from '../../../core/engine.js'
import { adminAudience } from '../../../core/admin/admin-audience.js'
import type { OperatorKind, OperatorRole, OperatorStore } from '../../../core/admin/operator-store.js'
import type { AccessTokenRefusal } from '../../../core/introspection.js'
import { ProblemError } from './problem.js'
import { dpopChallenge, readAccessToken, readDpop, usesDpopScheme } from '../../dpop.js'
import type { TokenIntrospection } from '../../../core/types.js'

/** Who called the management API: an identity on the operator list, with its role. */
export interface Operator {
  /** `client:ID` for a client's own token, `user:ID` for a user's token (the audit actor). */
  actor: string
  kind: OperatorKind
  /** The user id or client id on the operator list. */
  id: string
  role: OperatorRole
  /** The client the token was issued to. */
  clientId: string
  ip: string
}

export interface AuthorizeDeps {
  engine: Pick<Engine, 'checkAccessToken' | 'checkPresentedToken'>
  operators: Pick<OperatorStore, 'getOperator'>
  issuer: string
}

const REALM = 'gatehouse'
/** Methods a `read-only` operator may use (RFC 9110 §9.2.1 safe methods that read). */
const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD'])

/** RFC 6750 §3.1: error_description may hold only %x20-21 / %x23-5B / %x5D-7E. */
const headerSafe = (text: string): string => text.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?')

/** RFC 6750 §3: the challenge; no error attributes when no token was sent at all (§3.1). */
function challenge(error?: 'invalid_token' | 'insufficient_scope' | 'invalid_request', description?: string): Record<string, string> {
  const parts = [`realm="${REALM}"`]
  if (error) parts.push(`error="${error}"`)
  if (description) parts.push(`error_description="${headerSafe(description)}"`)
  return { 'www-authenticate': `Bearer ${parts.join(', ')}` }
}

/** 401 invalid_token (RFC 6750 §3.1): the token itself is the problem; the detail says which. */
function invalidToken(detail: string): ProblemError {
  return new ProblemError('unauthorized', detail, challenge('invalid_token', detail))
}

/** 403 (RFC 6750 §3.1 insufficient_scope: "higher privileges than provided"); the detail says which. */
function forbidden(detail: string): ProblemError {
  return new ProblemError('forbidden', detail, challenge('insufficient_scope', detail))
}

/**
 * RFC 6750 §2.1: `Authorization: Bearer <token>`; query and body tokens are not accepted.
 * Another scheme (Basic, …) is no bearer credential at all: undefined, answered with the bare
 * challenge (§3: no error code then). A Bearer header that is not one b64token is a malformed
 * request: 400 `invalid_request` (§3.1).
 */
function readBearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  if (!/^bearer(?: |$)/i.test(header.trim())) return undefined
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header)
  if (!match?.[1]) throw new ProblemError('validation', 'The Authorization header must be "Bearer <token>".', challenge('invalid_request', 'malformed bearer token'))
  return match[1]
}

/** Why the token was refused, in words an operator can act on. Only the admin API says this. */
function refusalDetail(refusal: AccessTokenRefusal, issuer: string): string {
  switch (refusal.reason) {
    case 'unknown':
      return 'The access token is not a token of this Gatehouse.'
    case 'malformed':
      return 'The access token is malformed.'
    case 'unknown_key':
      return 'The access token is not signed by a key of this Gatehouse.'
    case 'bad_signature':
      return 'The access token signature does not verify.'
    case 'not_access_token':
      return 'The token is not an access token.'
    case 'wrong_issuer':
      return `The access token was issued by ${refusal.issuer}; this Gatehouse is ${issuer}.`
    case 'expired':
      return `The access token expired at ${new Date(refusal.expiredAt * 1000).toISOString()}.`
    case 'revoked':
      return 'The access token has been revoked.'
  }
}

/**
 * The management API's authority (docs/management.md): the token is active (signature,
 * issuer, expiry, revocation, checked in-process as introspection would), its `aud` is the
 * admin audience, and its subject is on the operator list now — looked up per request, so
 * taking an operator off the list takes effect at once. A `read-only` operator may only read.
 * Scopes mean nothing here.
 */
export async function authorizeOperator(deps: AuthorizeDeps, request: FastifyRequest): Promise<Operator> {
  const expected = adminAudience(deps.issuer)
  const { clientId, subject, audience } = await presentedToken(deps, request, expected)
  if (clientId === undefined || subject === undefined) throw invalidToken('The access token names no subject.')
  if (audience !== expected) {
    throw invalidToken(`The access token is for the audience ${audience ?? '(none)'}; the management API accepts only ${expected}.`)
  }
  // client_credentials makes the client its own subject; a user's token has the user as subject.
  const kind: OperatorKind = subject === clientId ? 'client' : 'user'
  const entry = await deps.operators.getOperator(kind, subject)
  if (!entry) throw forbidden(`${kind}:${subject} is not an operator.`)
  if (entry.role === 'read-only' && !READ_METHODS.has(request.method)) {
    throw forbidden(`${kind}:${subject} is a read-only operator; ${request.method} needs the admin role.`)
  }
  return { actor: `${kind}:${subject}`, kind, id: subject, role: entry.role, clientId, ip: request.ip }
}

/**
 * The caller's token: `Bearer` (RFC 6750 §2.1), or `DPoP` with a proof by the key the token is
 * bound to (RFC 9449 §7.1). A DPoP-bound token presented as Bearer is refused (§7.2).
 */
async function presentedToken(deps: AuthorizeDeps, request: FastifyRequest, expected: string): Promise<TokenIntrospection> {
  const header = request.headers.authorization
  if (usesDpopScheme(header)) {
    const presented = readAccessToken(header)
    if (presented === undefined || presented === 'malformed') {
      throw new ProblemError('validation', 'The Authorization header must be "DPoP <token>".', { 'www-authenticate': dpopChallenge('invalid_request', 'malformed DPoP token', REALM) })
    }
    const checked = await deps.engine.checkPresentedToken({ scheme: 'DPoP', token: presented.token, dpop: readDpop(request, deps.issuer) })
    if (!checked.ok) {
      const detail = checked.refusal !== undefined ? refusalDetail(checked.refusal, deps.issuer) : checked.description
      throw new ProblemError('unauthorized', detail, { 'www-authenticate': dpopChallenge(checked.error, detail, REALM) })
    }
    return checked.token
  }
  const token = readBearerToken(header)
  if (token === undefined) throw new ProblemError('unauthorized', `A bearer token for the audience ${expected} is required.`, challenge())
  const checked = await deps.engine.checkAccessToken(token)
  if (!checked.ok) throw invalidToken(refusalDetail(checked, deps.issuer))
  if (checked.token.jkt !== undefined) {
    const detail = 'This access token is DPoP-bound: present it with the DPoP scheme and a proof.'
    throw new ProblemError('unauthorized', detail, { 'www-authenticate': dpopChallenge('invalid_token', detail, REALM) })
  }
  return checked.token
}

/** For routes only the admin role may use, reads included (the operator list itself). */
export function requireAdminRole(operator: Operator): void {
  if (operator.role !== 'admin') throw forbidden(`${operator.actor} is a read-only operator; this operation needs the admin role.`)
}
