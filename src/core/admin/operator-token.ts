import type { ClientStore } from '../client-store.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { TokenService } from '../tokens/token-service.js'
import { adminAudience } from './admin-audience.js'
import type { ClientAdmin } from './client-admin.js'
import type { OperatorAdmin } from './operator-admin.js'
import type { OperatorRole } from './operator-store.js'

/** The bootstrap clients `gatehouse admin create-token` mints for, one per role; created on first use. */
export const OPERATOR_CLIENT_IDS: Readonly<Record<OperatorRole, string>> = {
  admin: 'gatehouse-operator',
  'read-only': 'gatehouse-operator-read-only',
}
export const OPERATOR_CLIENT_ID = OPERATOR_CLIENT_IDS.admin

type Deps = {
  store: ClientStore
  clients: ClientAdmin
  operators: Pick<OperatorAdmin, 'put'>
  tokens: TokenService
  audit: AuditLog
  maxAccessTokenTtl: number
}

export class OperatorTokenError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'OperatorTokenError'
  }
}

export interface OperatorToken {
  accessToken: string
  expiresIn: number
  clientId: string
  audience: string
  role: OperatorRole
}

/**
 * Bootstrap: gives the first operator a way into the management API. Runs with direct access
 * to the database (the CLI on the server), so it mints a token for the bootstrap client
 * without a client secret — none is ever shown for it — and (re)puts that client on the
 * operator list with the role asked for. The token's `iss` is the issuer the service was
 * configured with, its `aud` the admin audience, and it carries no scope.
 */
export async function createOperatorToken(deps: Deps, options: { ttl?: number; role?: OperatorRole } = {}): Promise<OperatorToken> {
  const ttl = options.ttl ?? Math.min(3600, deps.maxAccessTokenTtl)
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > deps.maxAccessTokenTtl) {
    throw new OperatorTokenError(`--ttl must be a whole number of seconds from 1 to ${deps.maxAccessTokenTtl} (GATEHOUSE_MAX_ACCESS_TOKEN_TTL)`)
  }
  const role = options.role ?? 'admin'
  const clientId = OPERATOR_CLIENT_IDS[role]
  if (clientId === undefined) throw new OperatorTokenError(`--role must be admin or read-only (got "${role}")`)
  let client = await deps.store.getClient(clientId)
  if (!client) {
    const name = role === 'admin' ? 'Gatehouse operator (bootstrap)' : 'Gatehouse read-only operator (bootstrap)'
    // No grant is of use to it: its tokens are minted here. client_credentials only so it reads as a service client.
    await deps.clients.create({ id: clientId, name, grantTypes: ['client_credentials'], scopes: [] })
    await deps.audit.record({ actor: 'cli', action: 'client.created', target: `client:${clientId}`, details: { name, scopes: [] } })
    client = await deps.store.getClient(clientId)
  }
  if (!client) throw new OperatorTokenError('could not create the operator client')
  const listed = await deps.operators.put('client', client.id, role)
  if (!listed) throw new OperatorTokenError('could not put the operator client on the operator list')
  if (listed.previous?.role !== role) {
    await deps.audit.record({ actor: 'cli', action: listed.previous ? 'operator.role_changed' : 'operator.added', target: `client:${client.id}`, details: { role } })
  }
  const audience = adminAudience(deps.tokens.issuer)
  // The lifetime asked for, whatever the client's own; an opaque client still gets its format.
  const issued = await deps.tokens.issueAccessToken({ client: { ...client, accessTokenTtl: ttl }, subject: client.id, scopes: [], audience })
  await deps.audit.record({ actor: 'cli', action: 'operator_token.created', target: `client:${client.id}`, details: { expires_in: issued.expiresIn, role, audience } })
  return { accessToken: issued.token, expiresIn: issued.expiresIn, clientId: client.id, audience, role }
}
