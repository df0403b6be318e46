import type { ApiCatalog } from '../audience.js'
import type { PublishChange } from '../changes.js'
import type { Clock } from '../clock.js'
import type { Random } from '../random.js'
import { OPENID_SCOPES, SCOPE_TOKEN } from '../scope.js'
import { DuplicateError } from '../store-errors.js'
import type { Api, ApiScope, ApiStore } from './api-store.js'

/** What an operator gives for a scope; `selfService` defaults to false (restricted). */
export interface ApiScopeInput {
  name: string
  description: string
  selfService?: boolean
}

export interface ApiInput {
  identifier: string
  name: string
  scopes: ApiScopeInput[]
}

/** A scope-by-scope change, as the CLI's repeatable options express it. */
export interface ScopeEdits {
  /** Adds a scope, or changes the description of one the API has. */
  set?: { name: string; description: string }[]
  remove?: string[]
  selfService?: string[]
  restricted?: string[]
}

export class ApiValidationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ApiValidationError'
  }
}

type Deps = {
  store: ApiStore
  clock: Clock
  random: Random
  /** Gatehouse's own issuer: `<issuer>/admin/v1` is reserved for its management API. */
  issuer: string
  /** Tells other instances to reload their copy of the registry. */
  publish?: PublishChange
  /** How old the in-memory copy may grow before a read refreshes it in the background (other processes on SQLite hear no notices). */
  maxAgeMs: number
  onError?: (error: unknown) => void
}

/** Scopes that belong to no API: the OpenID ones and Gatehouse's own management scope. */
// `management-api` is no longer reserved: it is seed 001's scope of the platform's own API, with
// no meaning to Gatehouse (whose management API takes operator tokens for its own audience).
const RESERVED_SCOPES: ReadonlySet<string> = new Set(OPENID_SCOPES)

const trimSlashes = (url: string): string => url.replace(/\/+$/, '')

interface Snapshot {
  byIdentifier: ReadonlyMap<string, Api>
  byScope: ReadonlyMap<string, Api>
  apis: readonly Api[]
}

const EMPTY: Snapshot = { byIdentifier: new Map(), byScope: new Map(), apis: [] }

function snapshotOf(apis: Api[]): Snapshot {
  const byScope = new Map<string, Api>()
  for (const api of apis) for (const scope of api.scopes) byScope.set(scope.name, api)
  return { byIdentifier: new Map(apis.map((api) => [api.identifier, api])), byScope, apis }
}

/**
 * The API and scope registry: operators create, change and delete APIs; the token path reads
 * an in-memory copy (no database read per request), loaded at start and reloaded on every
 * change, here at once and on other instances through the change feed.
 */
export class ApiRegistry implements ApiCatalog {
  readonly #deps: Deps
  #snapshot: Snapshot = EMPTY
  #loadedAt = Number.NEGATIVE_INFINITY
  #started = 0
  #applied = 0
  #refreshing: Promise<void> | undefined

  constructor(deps: Deps) {
    this.#deps = deps
  }

  /** Reads the whole registry into memory. A load that started earlier never overwrites a later one. */
  async load(): Promise<void> {
    const sequence = ++this.#started
    const startedAt = this.#deps.clock.now()
    const apis = await this.#deps.store.listApis()
    if (sequence > this.#applied) {
      this.#applied = sequence
      this.#snapshot = snapshotOf(apis)
      this.#loadedAt = startedAt
    }
  }

  /** Reloads in the background (a change notice from another instance); errors go to onError. */
  invalidate(): void {
    this.#loadedAt = Number.NEGATIVE_INFINITY
    this.#refresh()
  }

  // ── ApiCatalog: the token path's synchronous reads ───────────────────────
  apiByIdentifier(identifier: string): Api | undefined {
    this.#refreshIfOld()
    return this.#snapshot.byIdentifier.get(identifier)
  }

  apiOfScope(scope: string): Api | undefined {
    this.#refreshIfOld()
    return this.#snapshot.byScope.get(scope)
  }

  // ── operator use cases ───────────────────────────────────────────────────
  /** Every API, read from the store (not the cache): what operators and the console see is current. */
  list(): Promise<Api[]> {
    return this.#deps.store.listApis()
  }

  /** By id, or else by identifier. */
  async get(ref: string): Promise<Api | undefined> {
    return (await this.#deps.store.getApi(ref)) ?? (await this.#deps.store.getApiByIdentifier(ref))
  }

  async create(input: ApiInput): Promise<Api> {
    const now = this.#deps.clock.now()
    const api = await this.#validate({ id: this.#deps.random.bytes(12).toString('hex'), identifier: input.identifier, name: input.name, scopes: scopesOf(input.scopes), createdAt: now, updatedAt: now })
    await this.#deps.store.insertApi(api)
    await this.#changed()
    return api
  }

  /** Only the fields given change; `scopes` replaces the whole list. Undefined when there is no such API. */
  async update(ref: string, changes: Partial<ApiInput>): Promise<Api | undefined> {
    const current = await this.get(ref)
    if (!current) return undefined
    const api = await this.#validate({
      ...current,
      ...(changes.identifier !== undefined ? { identifier: changes.identifier } : {}),
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.scopes !== undefined ? { scopes: scopesOf(changes.scopes) } : {}),
      updatedAt: this.#deps.clock.now(),
    })
    await this.#deps.store.updateApi(api)
    await this.#changed()
    return api
  }

  /**
   * Deletes an API and its scopes. Clients keep the scope names they hold, but those no longer
   * name an API: no token gets that API's audience, and the console no longer offers them.
   */
  async delete(ref: string): Promise<Api | undefined> {
    const current = await this.get(ref)
    if (!current || !(await this.#deps.store.deleteApi(current.id))) return undefined
    await this.#changed()
    return current
  }

  async #changed(): Promise<void> {
    await this.load()
    await this.#deps.publish?.({ kind: 'apis' })
  }

  #refreshIfOld(): void {
    if (this.#refreshing === undefined && this.#deps.clock.now() - this.#loadedAt > this.#deps.maxAgeMs) this.#refresh()
  }

  #refresh(): void {
    const previous = this.#refreshing ?? Promise.resolve()
    const next: Promise<void> = previous
      .then(() => this.load())
      .catch((error: unknown) => {
        // Keep serving the copy we have; try again at the next read after maxAgeMs.
        this.#loadedAt = this.#deps.clock.now()
        this.#deps.onError?.(error)
      })
      .finally(() => {
        if (this.#refreshing === next) this.#refreshing = undefined
      })
    this.#refreshing = next
  }

  async #validate(api: Api): Promise<Api> {
    const name = api.name.trim()
    if (name === '' || name.length > 200) throw new ApiValidationError('name must be 1 to 200 characters')
    checkIdentifier(api.identifier, this.#deps.issuer)
    if (api.scopes.length === 0) throw new ApiValidationError('an API needs at least one scope (--scope NAME=DESCRIPTION)')
    const seen = new Set<string>()
    for (const scope of api.scopes) {
      checkScope(scope)
      if (seen.has(scope.name)) throw new ApiValidationError(`scope "${scope.name}" is given twice`)
      seen.add(scope.name)
    }
    // The store's unique constraints are the last word; this check only names the culprit.
    for (const other of await this.#deps.store.listApis()) {
      if (other.id === api.id) continue
      if (other.identifier === api.identifier) throw new DuplicateError(`API ${api.identifier}`)
      const taken = other.scopes.find((scope) => seen.has(scope.name))
      if (taken) throw new DuplicateError(`scope "${taken.name}" (of API ${other.identifier})`)
    }
    return { ...api, name }
  }
}

function scopesOf(inputs: ApiScopeInput[]): ApiScope[] {
  return inputs.map((scope) => ({ name: scope.name, description: scope.description.trim(), selfService: scope.selfService ?? false }))
}

/** RFC 8707 §2: an absolute URI without a fragment; Gatehouse also wants http(s). */
function checkIdentifier(identifier: string, issuer: string): void {
  let url: URL
  try {
    url = new URL(identifier)
  } catch {
    throw new ApiValidationError(`identifier "${identifier}" is not an absolute URL (e.g. https://api.example.com)`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ApiValidationError(`identifier "${identifier}" must be an http or https URL`)
  if (identifier.includes('#')) throw new ApiValidationError(`identifier "${identifier}" must not have a fragment (RFC 8707 §2)`)
  if (identifier.length > 2000 || /\s/.test(identifier)) throw new ApiValidationError('identifier must be at most 2000 characters, without spaces')
  const reserved = `${trimSlashes(issuer)}/admin/v1`
  const given = trimSlashes(identifier)
  if (given === reserved || given.startsWith(`${reserved}/`)) {
    throw new ApiValidationError(`identifier "${identifier}" is reserved for Gatehouse's own management API`)
  }
}

function checkScope(scope: ApiScope): void {
  if (!SCOPE_TOKEN.test(scope.name) || scope.name.length > 200) {
    throw new ApiValidationError(`scope name "${scope.name}" is not a valid scope (RFC 6749 §3.3: printable ASCII without spaces, quotes or backslashes; at most 200 characters)`)
  }
  if (RESERVED_SCOPES.has(scope.name)) {
    throw new ApiValidationError(`scope "${scope.name}" is reserved (an OpenID Connect scope); it cannot belong to an API`)
  }
  if (scope.description === '' || scope.description.length > 500) {
    throw new ApiValidationError(`scope "${scope.name}" needs a description of 1 to 500 characters`)
  }
}

/** Applies scope-by-scope edits to an API's scope list (new scopes are restricted unless marked). */
export function editScopes(current: readonly ApiScope[], edits: ScopeEdits): ApiScopeInput[] {
  const scopes = new Map<string, ApiScopeInput>(current.map((scope) => [scope.name, { ...scope }]))
  for (const { name, description } of edits.set ?? []) scopes.set(name, { name, description, selfService: scopes.get(name)?.selfService ?? false })
  for (const name of edits.remove ?? []) {
    if (!scopes.delete(name)) throw new ApiValidationError(`scope "${name}" is not a scope of this API`)
  }
  for (const [names, selfService] of [[edits.selfService ?? [], true], [edits.restricted ?? [], false]] as const) {
    for (const name of names) {
      const scope = scopes.get(name)
      if (!scope) throw new ApiValidationError(`scope "${name}" is not a scope of this API (give it with --scope ${name}=DESCRIPTION)`)
      scope.selfService = selfService
    }
  }
  return [...scopes.values()]
}
