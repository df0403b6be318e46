import type { ClientStore } from '../client-store.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { TokenService } from '../tokens/token-service.js'
import type { ClientAdmin } from './client-admin.js'

/** The client `gatehouse admin create-token` mints for; created on first use. */
export const OPERATOR_CLIENT_ID = 'gatehouse-operator'
/** Seed 001's name for the scope that opens the management API. */
export const MANAGEMENT_SCOPE = 'management-api'

type Deps = { store: ClientStore; clients: ClientAdmin; tokens: TokenService; audit: AuditLog; maxAccessTokenTtl: number }

export class OperatorTokenError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'OperatorTokenError'
  }
}

/**
 * Bootstrap: gives the first operator a way into the management API. Runs with direct access
 * to the database (the CLI on the server), so it mints a token for the operator client
 * without a client secret — none is ever shown for this client.
 */
export async function createOperatorToken(deps: Deps, options: { ttl?: number } = {}): Promise<{ accessToken: string; expiresIn: number; clientId: string; scope: string }> {
  const ttl = options.ttl ?? Math.min(3600, deps.maxAccessTokenTtl)
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > deps.maxAccessTokenTtl) {
    throw new OperatorTokenError(`--ttl must be a whole number of seconds from 1 to ${deps.maxAccessTokenTtl} (GATEHOUSE_MAX_ACCESS_TOKEN_TTL)`)
  }
  let client = await deps.store.getClient(OPERATOR_CLIENT_ID)
  if (!client) {
    await deps.clients.create({ id: OPERATOR_CLIENT_ID, name: 'Gatehouse operator (bootstrap)', grantTypes: ['client_credentials'], scopes: [MANAGEMENT_SCOPE] })
    await deps.audit.record({ actor: 'cli', action: 'client.created', target: `client:${OPERATOR_CLIENT_ID}`, details: { name: 'Gatehouse operator (bootstrap)', scopes: [MANAGEMENT_SCOPE] } })
    client = await deps.store.getClient(OPERATOR_CLIENT_ID)
  }
  if (!client) throw new OperatorTokenError('could not create the operator client')
  // The lifetime asked for, whatever the client's own; an opaque client still gets its format.
  const issued = await deps.tokens.issueAccessToken({ client: { ...client, accessTokenTtl: ttl }, subject: client.id, scopes: [MANAGEMENT_SCOPE] })
  await deps.audit.record({ actor: 'cli', action: 'operator_token.created', target: `client:${client.id}`, details: { expires_in: issued.expiresIn } })
  return { accessToken: issued.token, expiresIn: issued.expiresIn, clientId: client.id, scope: MANAGEMENT_SCOPE }
}
