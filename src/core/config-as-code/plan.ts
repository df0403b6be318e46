import { hasSecret, type ClientSettings, type ClientView } from '../admin/client-admin.js'
import type { OperatorKind, OperatorRecord, OperatorRole } from '../admin/operator-store.js'
import type { ApiInput, ApiScopeInput } from '../apis/api-registry.js'
import type { Api } from '../apis/api-store.js'
import type { ClientAuthMethod } from '../types.js'
import { CLIENT_FIELDS, type UserDirectory } from './client-fields.js'
import type { Declaration, DeclarationPath, DeclaredClient } from './declaration.js'

/**
 * Configuration as code, the planning step: what the file declares against what the server
 * holds → the list of changes. No I/O: the caller reads the state and carries the plan out.
 */

/** One field of one record: `from` is absent for a record being created, `to` for one being removed. */
export interface FieldChange {
  field: string
  from?: unknown
  to?: unknown
}

export type ClientChange =
  | { kind: 'client'; action: 'create'; id: string; settings: ClientSettings; secret: { fromEnv: string } | 'generated' | 'none'; fields: FieldChange[] }
  | { kind: 'client'; action: 'update'; id: string; changes: Partial<ClientSettings>; fields: FieldChange[] }
  /** The secret in `fromEnv` is not the client's secret yet: it becomes it. */
  | { kind: 'client'; action: 'set-secret'; id: string; fromEnv: string; fields: FieldChange[] }
  | { kind: 'client'; action: 'delete'; id: string; fields: FieldChange[] }

export type ApiChange =
  | { kind: 'api'; action: 'create'; identifier: string; input: ApiInput; fields: FieldChange[] }
  | { kind: 'api'; action: 'update'; identifier: string; id: string; changes: Partial<ApiInput>; fields: FieldChange[] }
  | { kind: 'api'; action: 'delete'; identifier: string; id: string; fields: FieldChange[] }

export interface OperatorChange {
  kind: 'operator'
  action: 'create' | 'update' | 'delete'
  subject: OperatorKind
  /** The user id or client id. */
  id: string
  /** How the file names it (a username for a user). */
  label: string
  role: OperatorRole
  fields: FieldChange[]
}

export interface DialectsChange {
  kind: 'dialects'
  action: 'update'
  /** Every dialect setting as it is to be, `dialect.setting` → value. */
  settings: Readonly<Record<string, unknown>>
  fields: FieldChange[]
}

export type Change = ClientChange | ApiChange | OperatorChange | DialectsChange

/** What the server holds now, read by the caller. */
export interface CurrentState {
  clients: readonly ClientView[]
  apis: readonly Api[]
  operators: readonly OperatorRecord[]
  users: UserDirectory
  /** For each existing client the file gives `secretFromEnv`: whether that secret is its secret now. */
  secretsMatch: ReadonlyMap<string, boolean>
  /** Dialect settings now, `dialect.setting` → value (the defaults when nothing is set). */
  dialects: Readonly<Record<string, unknown>>
}

export interface PlanOptions {
  /** Remove clients, APIs, scopes and operator entries that a section of the file does not name. */
  prune: boolean
  /** Every dialect setting the file's `dialects` section comes to, resolved over the defaults. */
  desiredDialects?: Readonly<Record<string, unknown>>
}

export interface Plan {
  changes: Change[]
  /** What a section does not name and stays because --prune was not given. */
  kept: string[]
}

export interface PlanProblem {
  path: DeclarationPath
  message: string
}

/** The file asks for something that cannot be: each problem names where. */
export class PlanError extends Error {
  constructor(readonly problems: PlanProblem[]) {
    super(problems.map((problem) => problem.message).join('; '))
    this.name = 'PlanError'
  }
}

/** Plain data with the members of every object sorted: lists keep their order, objects have none. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical)
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]))
  return value
}

/**
 * Values compare as canonical JSON: a JWK's members may come back from the store in another
 * order (PostgreSQL jsonb keeps none) and are the same key.
 */
const same = (a: unknown, b: unknown): boolean => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b))

export function planChanges(declaration: Declaration, current: CurrentState, options: PlanOptions): Plan {
  const problems: PlanProblem[] = []
  const creates: Change[] = []
  const removals: Change[] = []
  const kept: string[] = []

  // ── APIs first: clients may name their scopes ──
  if (declaration.apis) {
    const byIdentifier = new Map(current.apis.map((api) => [api.identifier, api]))
    const declared = new Set<string>()
    declaration.apis.forEach((api, index) => {
      if (declared.has(api.identifier)) problems.push({ path: ['apis', index, 'identifier'], message: `API ${api.identifier} is declared twice` })
      declared.add(api.identifier)
      const existing = byIdentifier.get(api.identifier)
      const scopes = api.scopes.map((scope) => ({ name: scope.name, description: scope.description, selfService: scope.selfService ?? false }))
      if (!existing) {
        creates.push({ kind: 'api', action: 'create', identifier: api.identifier, input: { identifier: api.identifier, name: api.name, scopes }, fields: [{ field: 'name', to: api.name }, ...scopes.map((scope) => ({ field: `scopes.${scope.name}`, to: scopeValue(scope) }))] })
        return
      }
      const change = planApiUpdate(existing, api.name, scopes, options.prune, kept)
      if (change) creates.push(change)
    })
    for (const api of current.apis) {
      if (declared.has(api.identifier)) continue
      if (options.prune) removals.push({ kind: 'api', action: 'delete', identifier: api.identifier, id: api.id, fields: [] })
      else kept.push(`api ${api.identifier}`)
    }
  }

  // ── clients ──
  const clientIds = new Set(current.clients.map((client) => client.id))
  if (declaration.clients) {
    const byId = new Map(current.clients.map((client) => [client.id, client]))
    const declared = new Set<string>()
    declaration.clients.forEach((client, index) => {
      if (declared.has(client.id)) problems.push({ path: ['clients', index, 'id'], message: `client ${client.id} is declared twice` })
      declared.add(client.id)
      const change = planClient(client, byId.get(client.id), current, ['clients', index], problems)
      creates.push(...change)
    })
    for (const client of current.clients) {
      if (declared.has(client.id)) continue
      if (options.prune) removals.push({ kind: 'client', action: 'delete', id: client.id, fields: [] })
      else kept.push(`client ${client.id}`)
    }
    for (const id of declared) clientIds.add(id)
    if (options.prune) for (const client of current.clients) if (!declared.has(client.id)) clientIds.delete(client.id)
  }

  // ── the operator list ──
  if (declaration.operators) {
    const byKey = new Map(current.operators.map((entry) => [`${entry.kind}:${entry.id}`, entry]))
    const declared = new Set<string>()
    declaration.operators.forEach((entry, index) => {
      const subject: OperatorKind = 'user' in entry ? 'user' : 'client'
      const label = 'user' in entry ? entry.user : entry.client
      const id = subject === 'user' ? current.users.idOf(label) : clientIds.has(label) ? label : undefined
      if (id === undefined) {
        problems.push({ path: ['operators', index, subject], message: subject === 'user' ? `no user ${label} (apply never creates users)` : `no client ${label}, here or in the file` })
        return
      }
      const key = `${subject}:${id}`
      if (declared.has(key)) problems.push({ path: ['operators', index, subject], message: `${subject} ${label} is on the operator list twice` })
      declared.add(key)
      const existing = byKey.get(key)
      if (!existing) creates.push({ kind: 'operator', action: 'create', subject, id, label, role: entry.role, fields: [{ field: 'role', to: entry.role }] })
      else if (existing.role !== entry.role) creates.push({ kind: 'operator', action: 'update', subject, id, label, role: entry.role, fields: [{ field: 'role', from: existing.role, to: entry.role }] })
    })
    for (const entry of current.operators) {
      const key = `${entry.kind}:${entry.id}`
      if (declared.has(key)) continue
      const label = entry.kind === 'user' ? (current.users.usernameOf(entry.id) ?? entry.id) : entry.id
      // Users themselves are never removed: only their place on the list.
      if (options.prune) removals.unshift({ kind: 'operator', action: 'delete', subject: entry.kind, id: entry.id, label, role: entry.role, fields: [{ field: 'role', from: entry.role }] })
      else kept.push(`operator ${entry.kind} ${label}`)
    }
  }

  // ── dialect settings ──
  if (declaration.dialects && options.desiredDialects) {
    const desired = options.desiredDialects
    const fields: FieldChange[] = Object.keys({ ...current.dialects, ...desired })
      .filter((key) => !same(current.dialects[key], desired[key]))
      .map((key) => ({ field: key, from: current.dialects[key], to: desired[key] }))
    if (fields.length > 0) creates.push({ kind: 'dialects', action: 'update', settings: desired, fields })
  }

  if (problems.length > 0) throw new PlanError(problems)
  // Removals last, operator entries before the clients they name, clients before APIs.
  const order = { operator: 0, client: 1, api: 2, dialects: 3 }
  removals.sort((a, b) => order[a.kind] - order[b.kind])
  return { changes: [...creates, ...removals], kept }
}

const scopeValue = (scope: Required<ApiScopeInput>): Record<string, unknown> => ({ description: scope.description, selfService: scope.selfService })

function planApiUpdate(existing: Api, name: string, declared: Required<ApiScopeInput>[], prune: boolean, kept: string[]): ApiChange | undefined {
  const fields: FieldChange[] = []
  if (existing.name !== name) fields.push({ field: 'name', from: existing.name, to: name })
  const currentScopes = new Map(existing.scopes.map((scope) => [scope.name, scope]))
  const declaredNames = new Set(declared.map((scope) => scope.name))
  for (const scope of declared) {
    const now = currentScopes.get(scope.name)
    if (!now) fields.push({ field: `scopes.${scope.name}`, to: scopeValue(scope) })
    else {
      if (now.description !== scope.description) fields.push({ field: `scopes.${scope.name}.description`, from: now.description, to: scope.description })
      if (now.selfService !== scope.selfService) fields.push({ field: `scopes.${scope.name}.selfService`, from: now.selfService, to: scope.selfService })
    }
  }
  const extra = existing.scopes.filter((scope) => !declaredNames.has(scope.name))
  if (prune) for (const scope of extra) fields.push({ field: `scopes.${scope.name}`, from: scopeValue(scope) })
  else for (const scope of extra) kept.push(`scope ${scope.name} of api ${existing.identifier}`)
  // Without --prune the scopes the file does not name stay, after the declared ones.
  const scopes = prune ? declared : [...declared, ...extra.map((scope) => ({ ...scope }))]
  const reordered = fields.length === 0 && !same(scopes.map((scope) => scope.name), existing.scopes.map((scope) => scope.name))
  if (reordered) fields.push({ field: 'scopes (order)', from: existing.scopes.map((scope) => scope.name), to: scopes.map((scope) => scope.name) })
  if (fields.length === 0) return undefined
  const scopesChanged = fields.some((field) => field.field.startsWith('scopes'))
  return {
    kind: 'api',
    action: 'update',
    identifier: existing.identifier,
    id: existing.id,
    changes: { ...(existing.name !== name ? { name } : {}), ...(scopesChanged ? { scopes } : {}) },
    fields,
  }
}

function planClient(client: DeclaredClient, existing: ClientView | undefined, current: CurrentState, path: DeclarationPath, problems: PlanProblem[]): ClientChange[] {
  const settings: Partial<ClientSettings> = {}
  const fields: FieldChange[] = []
  for (const field of CLIENT_FIELDS) {
    if (!(field.key in client)) continue
    const raw = client[field.key]
    const translated = field.fromFile ? field.fromFile(raw, current.users) : { value: raw }
    if ('error' in translated) {
      problems.push({ path: [...path, field.key], message: `client ${client.id}: ${field.key}: ${translated.error}` })
      continue
    }
    if (existing && same(existing[field.key], translated.value)) continue
    // The schema has checked each value against the field's type.
    Object.assign(settings, { [field.key]: translated.value })
    fields.push({ field: field.key, ...(existing ? { from: field.toFile ? field.toFile(existing[field.key], current.users) : existing[field.key] } : {}), to: raw })
  }
  const method: ClientAuthMethod = settings.tokenEndpointAuthMethod ?? existing?.tokenEndpointAuthMethod ?? 'client_secret_basic'
  // RFC 9700 §4.14.2: ClientAdmin makes a public client's refresh tokens rotate whatever is asked,
  // so `false` would be a change at every apply: refuse it instead.
  if (method === 'none' && client.rotateRefreshTokens === false) {
    problems.push({ path: [...path, 'rotateRefreshTokens'], message: `client ${client.id}: a public client's refresh tokens always rotate (RFC 9700 §4.14.2); remove rotateRefreshTokens or make it true` })
  }
  if (client.secretFromEnv !== undefined && !hasSecret(method)) {
    problems.push({ path: [...path, 'secretFromEnv'], message: `client ${client.id}: a client of auth method ${method} has no secret; remove secretFromEnv` })
    return []
  }
  if (!existing) {
    const secret = client.secretFromEnv !== undefined ? { fromEnv: client.secretFromEnv } : hasSecret(method) ? ('generated' as const) : ('none' as const)
    if (secret !== 'none') fields.push({ field: 'secret', to: secret === 'generated' ? '(generated, printed once)' : `(from $${client.secretFromEnv})` })
    return [{ kind: 'client', action: 'create', id: client.id, settings: { ...settings, name: settings.name ?? client.id }, secret, fields }]
  }
  const changes: ClientChange[] = []
  if (fields.length > 0) changes.push({ kind: 'client', action: 'update', id: client.id, changes: settings, fields })
  if (client.secretFromEnv !== undefined && current.secretsMatch.get(client.id) !== true) {
    changes.push({ kind: 'client', action: 'set-secret', id: client.id, fromEnv: client.secretFromEnv, fields: [{ field: 'secret', from: '(another)', to: `(from $${client.secretFromEnv})` }] })
  }
  return changes
}
