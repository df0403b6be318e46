import type { FastifyRequest } from 'fastify'
import type { Engine } from '../../../core/engine.js'
import { MANAGEMENT_SCOPE } from '../../../core/admin/operator-token.js'
import { ProblemError } from './problem.js'

/** Who called the management API, for the audit log. */
export interface Operator {
  /** `client:ID` for a client's own token, `user:ID` for a user's token. */
  actor: string
  clientId: string
  ip: string
}

const REALM = 'gatehouse'

/** RFC 6750 §3: the challenge; no error attributes when no token was sent at all (§3.1). */
function challenge(error?: 'invalid_token' | 'insufficient_scope', description?: string): Record<string, string> {
  const parts = [`realm="${REALM}"`]
  if (error) parts.push(`error="${error}"`)
  if (description) parts.push(`error_description="${description}"`)
  if (error === 'insufficient_scope') parts.push(`scope="${MANAGEMENT_SCOPE}"`)
  return { 'www-authenticate': `Bearer ${parts.join(', ')}` }
}

/** RFC 6750 §2.1: `Authorization: Bearer <token>`; query and body tokens are not accepted. */
function readBearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header)
  if (!match?.[1]) throw new ProblemError('unauthorized', 'The Authorization header must be "Bearer <token>".', challenge('invalid_token', 'malformed authorization header'))
  return match[1]
}

/**
 * Checks the caller's bearer token in-process (signature, expiry, revocation — the engine's
 * introspection) and that it carries the management-api scope.
 */
export async function authorizeOperator(engine: Engine, request: FastifyRequest): Promise<Operator> {
  const token = readBearerToken(request.headers.authorization)
  if (token === undefined) throw new ProblemError('unauthorized', 'A bearer token with the management-api scope is required.', challenge())
  const result = await engine.inspectAccessToken(token)
  if (!result.active || result.clientId === undefined) {
    throw new ProblemError('unauthorized', 'The access token is invalid, expired or revoked.', challenge('invalid_token', 'the access token is invalid, expired or revoked'))
  }
  const scopes = (result.scope ?? '').split(' ')
  if (!scopes.includes(MANAGEMENT_SCOPE)) {
    throw new ProblemError('forbidden', `The access token lacks the ${MANAGEMENT_SCOPE} scope.`, challenge('insufficient_scope', `the ${MANAGEMENT_SCOPE} scope is required`))
  }
  const actor = result.subject === undefined || result.subject === result.clientId ? `client:${result.clientId}` : `user:${result.subject}`
  return { actor, clientId: result.clientId, ip: request.ip }
}
