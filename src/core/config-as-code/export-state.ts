import type { ClientView } from '../admin/client-admin.js'
import type { OperatorRecord } from '../admin/operator-store.js'
import type { Api } from '../apis/api-store.js'
import { CLIENT_FIELDS, type UserDirectory } from './client-fields.js'
import type { Declaration, DeclaredClient, DeclaredOperator } from './declaration.js'

/**
 * The server's state as a declaration: what `gatehouse export` writes, so that applying it
 * changes nothing. No secrets and no digests; a setting that is null (unset) is left out.
 */
export function exportState(state: { clients: readonly ClientView[]; apis: readonly Api[]; operators: readonly OperatorRecord[]; users: UserDirectory; dialects?: Readonly<Record<string, unknown>> }): Declaration {
  const clients = state.clients.map((client): DeclaredClient => {
    const declared: DeclaredClient = { id: client.id }
    for (const field of CLIENT_FIELDS) {
      const value = client[field.key]
      if (value === null) continue
      declared[field.key] = field.toFile ? field.toFile(value, state.users) : value
    }
    return declared
  })
  const apis = state.apis.map((api) => ({ identifier: api.identifier, name: api.name, scopes: api.scopes.map((scope) => ({ name: scope.name, description: scope.description, selfService: scope.selfService })) }))
  const operators = state.operators.map((entry): DeclaredOperator => (entry.kind === 'user' ? { user: state.users.usernameOf(entry.id) ?? entry.id, role: entry.role } : { client: entry.id, role: entry.role }))
  return { version: 1, clients, apis, operators, ...(state.dialects ? { dialects: state.dialects } : {}) }
}
