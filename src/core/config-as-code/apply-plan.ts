import type { ClientAdmin } from '../admin/client-admin.js'
import type { OperatorAdmin } from '../admin/operator-admin.js'
import type { ApiRegistry } from '../apis/api-registry.js'
import type { Change } from './plan.js'

/** Records one management change, as the CLI and the management API do (issue 6). */
export type RecordAudit = (action: string, target: string, details?: Record<string, unknown>) => Promise<unknown>

type Deps = {
  clients: Pick<ClientAdmin, 'create' | 'update' | 'rotateSecret' | 'delete'>
  apis: Pick<ApiRegistry, 'create' | 'update' | 'delete'>
  operators: Pick<OperatorAdmin, 'put' | 'remove'>
  audit: RecordAudit
  /** The secret an environment variable holds (the caller has checked that it is set). */
  secretFrom: (variable: string) => string
  /** Makes these the dialect settings (they live in the server's config file, not the database). */
  writeDialects: (settings: Readonly<Record<string, unknown>>) => Promise<void>
}

/** A secret made for a new client: shown once to the operator, never stored. */
export interface GeneratedSecret {
  clientId: string
  clientSecret: string
}

/** Something already done when a change was refused: what to tell the operator. */
export class ApplyError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly applied: readonly Change[],
    readonly failed: Change,
    readonly secrets: readonly GeneratedSecret[],
  ) {
    super(cause instanceof Error ? cause.message : String(cause))
    this.name = 'ApplyError'
  }
}

/**
 * Carries a plan out in its order, through the same administration functions and audit events
 * as `gatehouse clients …`, `apis …` and `operators …`. Stops at the first change refused.
 */
export async function applyPlan(deps: Deps, changes: readonly Change[]): Promise<{ secrets: GeneratedSecret[] }> {
  const secrets: GeneratedSecret[] = []
  const applied: Change[] = []
  for (const change of changes) {
    try {
      await applyChange(deps, change, secrets)
    } catch (error) {
      throw new ApplyError(error, applied, change, secrets)
    }
    applied.push(change)
  }
  return { secrets }
}

async function applyChange(deps: Deps, change: Change, secrets: GeneratedSecret[]): Promise<void> {
  const missing = (what: string): Error => new Error(`${what} is gone (changed by someone else during apply?)`)
  switch (change.kind) {
    case 'client': {
      const target = `client:${change.id}`
      if (change.action === 'create') {
        const { client, clientSecret } = await deps.clients.create({ ...change.settings, id: change.id }, typeof change.secret === 'object' ? { secret: deps.secretFrom(change.secret.fromEnv) } : {})
        await deps.audit('client.created', target, { name: client.name, grant_types: client.grantTypes, scopes: client.scopes, token_endpoint_auth_method: client.tokenEndpointAuthMethod })
        if (change.secret === 'generated' && clientSecret !== null) secrets.push({ clientId: client.id, clientSecret })
      } else if (change.action === 'update') {
        if (!(await deps.clients.update(change.id, change.changes))) throw missing(`client ${change.id}`)
        await deps.audit('client.updated', target, { fields: Object.keys(change.changes).sort() })
      } else if (change.action === 'set-secret') {
        if (!(await deps.clients.rotateSecret(change.id, { secret: deps.secretFrom(change.fromEnv) }))) throw missing(`client ${change.id}`)
        await deps.audit('client.secret_rotated', target, { revoke_tokens: false })
      } else {
        if (!(await deps.clients.delete(change.id))) throw missing(`client ${change.id}`)
        await deps.audit('client.deleted', target)
      }
      return
    }
    case 'api': {
      if (change.action === 'create') {
        const api = await deps.apis.create(change.input)
        await deps.audit('api.created', `api:${api.id}`, { identifier: api.identifier, scopes: api.scopes.map((scope) => scope.name) })
      } else if (change.action === 'update') {
        const api = await deps.apis.update(change.id, change.changes)
        if (!api) throw missing(`API ${change.identifier}`)
        await deps.audit('api.updated', `api:${api.id}`, { fields: Object.keys(change.changes).sort(), identifier: api.identifier })
      } else {
        const api = await deps.apis.delete(change.id)
        if (!api) throw missing(`API ${change.identifier}`)
        await deps.audit('api.deleted', `api:${api.id}`, { identifier: api.identifier })
      }
      return
    }
    case 'operator': {
      if (change.action === 'delete') {
        const removed = await deps.operators.remove(change.subject, change.id)
        if (!removed) throw missing(`operator ${change.subject} ${change.label}`)
        await deps.audit('operator.removed', `${change.subject}:${removed.id}`, { role: removed.role })
        return
      }
      const put = await deps.operators.put(change.subject, change.id, change.role)
      if (!put) throw missing(`${change.subject} ${change.label}`)
      if (put.previous?.role !== put.operator.role) {
        await deps.audit(put.previous ? 'operator.role_changed' : 'operator.added', `${change.subject}:${put.operator.id}`, { role: put.operator.role })
      }
      return
    }
    case 'dialects':
      await deps.writeDialects(change.settings)
      await deps.audit('dialects.updated', 'config:dialects', { fields: change.fields.map((field) => field.field) })
      return
  }
}
