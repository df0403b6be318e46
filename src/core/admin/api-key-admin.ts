import { DuplicateError } from '../store-errors.js'
import type { ApiKeyStore } from '../credentials/api-key-store.js'
import type { Clock } from '../clock.js'
import { generateApiKeyId, generateApiKeySecret } from '../credentials/api-key.js'
import { digestSecret } from '../credentials/secrets.js'
import type { Random } from '../random.js'
import { parseScope } from '../scope.js'
import type { ApiKey } from '../types.js'
import type { ClientAdmin } from './client-admin.js'
import { isAdminAudience } from './admin-audience.js'

export interface ApiKeySettings {
  name: string
  /** The key's scopes; default: all of its client's. */
  scopes?: string[]
  /** The `aud` of its access tokens; default: its client's. */
  audience?: string | null
  /** Lifetime in seconds, at most MAX_API_KEY_LIFETIME_SECONDS; default: no expiry. */
  expiresIn?: number
  /** The owner client; default: a new client dedicated to this key. */
  clientId?: string
}

/** A key as shown to operators: everything but the secret digest. */
export type ApiKeyView = Omit<ApiKey, 'secretDigest'>

export class ApiKeyValidationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ApiKeyValidationError'
  }
}

function checkLifetime(expiresIn: number | undefined): void {
  if (expiresIn === undefined) return
  if (!Number.isSafeInteger(expiresIn) || expiresIn <= 0 || expiresIn > MAX_API_KEY_LIFETIME_SECONDS) {
    throw new ApiKeyValidationError(`expires-in must be a whole number of seconds from 1 to ${MAX_API_KEY_LIFETIME_SECONDS} (10 years); leave it out for a key that does not expire`)
  }
}

export function viewApiKey(key: ApiKey): ApiKeyView {
  const { secretDigest: _secretDigest, ...view } = key
  return view
}

type Deps = {
  store: ApiKeyStore
  clients: Pick<ClientAdmin, 'create' | 'get'>
  clock: Clock
  random: Random
  /** The issuer, whose admin audience no key may take. */
  issuer: string
}

/**
 * The longest lifetime a key may be given: 10 years. Past it a key is as good as permanent (leave
 * `expiresIn` out for that), and a huge value would overflow the instant stored (a JS Date holds
 * ±8.64e15 ms; PostgreSQL's bigint 9.2e18), breaking every listing that reads it back.
 */
export const MAX_API_KEY_LIFETIME_SECONDS = 10 * 365 * 86_400

/** A 6-hex-digit id space is small: retry a colliding id a few times. */
const ID_ATTEMPTS = 5

/**
 * Creates, lists and revokes API keys. A key is shown once, as `KEYID:SECRET`, and stored as
 * its id plus a SHA-256 digest of the secret. A key acts for an owner client: an existing one
 * that allows the api_key grant, or one created for the key alone.
 */
export class ApiKeyAdmin {
  readonly #deps: Deps
  constructor(deps: Deps) {
    this.#deps = deps
  }

  async create(settings: ApiKeySettings): Promise<{ key: ApiKeyView; apiKey: string }> {
    const name = settings.name.trim()
    if (name === '') throw new ApiKeyValidationError('name must not be empty')
    const requested = this.#parseScopes(settings.scopes)
    if (isAdminAudience(settings.audience, this.#deps.issuer)) {
      throw new ApiKeyValidationError(`audience ${settings.audience} is reserved for Gatehouse's management API`)
    }
    checkLifetime(settings.expiresIn)
    const { clientId, scopes } = await this.#ownerClient(name, settings.clientId, requested)
    const now = this.#deps.clock.now()
    const secret = generateApiKeySecret(this.#deps.random)
    for (let attempt = 1; ; attempt++) {
      const key: ApiKey = {
        id: generateApiKeyId(this.#deps.random),
        name,
        clientId,
        secretDigest: digestSecret(secret),
        scopes,
        audience: settings.audience ?? null,
        expiresAt: settings.expiresIn === undefined ? null : now + settings.expiresIn * 1000,
        revokedAt: null,
        createdAt: now,
      }
      try {
        await this.#deps.store.insertApiKey(key)
        return { key: viewApiKey(key), apiKey: `${key.id}:${secret}` }
      } catch (error) {
        if (!(error instanceof DuplicateError) || attempt >= ID_ATTEMPTS) throw error
      }
    }
  }

  async get(id: string): Promise<ApiKeyView | undefined> {
    const key = await this.#deps.store.getApiKey(id)
    return key ? viewApiKey(key) : undefined
  }

  async list(page: { limit: number; after?: string; clientId?: string }): Promise<ApiKeyView[]> {
    return (await this.#deps.store.listApiKeys(page)).map(viewApiKey)
  }

  /** Revokes the key and the refresh tokens it gave out; false when there is no such key. */
  async revoke(id: string): Promise<boolean> {
    return this.#deps.store.revokeApiKey(id, this.#deps.clock.now())
  }

  #parseScopes(scopes: string[] | undefined): string[] | undefined {
    if (scopes === undefined) return undefined
    try {
      return parseScope(scopes.join(' ')) ?? []
    } catch {
      throw new ApiKeyValidationError(`invalid scope in "${scopes.join(' ')}"`)
    }
  }

  async #ownerClient(name: string, clientId: string | undefined, requested: string[] | undefined): Promise<{ clientId: string; scopes: string[] }> {
    if (clientId === undefined) {
      // The client's secret is never shown: the key is its only credential.
      const { client } = await this.#deps.clients.create({
        name: `API key: ${name}`,
        grantTypes: ['api_key', 'refresh_token'],
        scopes: requested ?? [],
      })
      return { clientId: client.id, scopes: client.scopes }
    }
    const client = await this.#deps.clients.get(clientId)
    if (!client) throw new ApiKeyValidationError(`no client with id ${clientId}`)
    if (!client.grantTypes.includes('api_key')) {
      throw new ApiKeyValidationError(`client ${clientId} does not allow the api_key grant; add it with: clients update ${clientId} --grant api_key …`)
    }
    const outside = (requested ?? []).filter((scope) => !client.scopes.includes(scope))
    if (outside.length > 0) throw new ApiKeyValidationError(`scope "${outside.join(' ')}" is not among client ${clientId}'s scopes`)
    return { clientId, scopes: requested ?? [...client.scopes].sort() }
  }
}
