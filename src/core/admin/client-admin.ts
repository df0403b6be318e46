import type { ClientStore } from '../client-store.js'
import type { UserStore } from '../credentials/user-store.js'
import { endGrants } from '../grant-ending.js'
import type { GrantStore } from '../tokens/token-store.js'
import type { PublishChange } from '../changes.js'
import type { ClientCache } from '../client-cache.js'
import type { Clock } from '../clock.js'
import { digestSecret, generateClientId, generateClientSecret, secretMatchesDigest } from '../credentials/secrets.js'
import type { Random } from '../random.js'
import { APPLICATION_TYPES, GRANT_TYPES, PUBLIC_CLIENT_GRANT_TYPES, SIGNING_ALGS, type ApplicationType, type Client, type ClientAuthMethod, type ClientJwks, type GrantType, type SigningAlg, type TokenFormat } from '../types.js'
import { checkRedirectUri } from '../authorization/redirect-uri.js'
import { checkJwksKeys, checkJwksUri, JwksError } from '../credentials/client-jwks.js'
import { ClientValidationError } from './client-validation-error.js'

export const CLIENT_AUTH_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt']
/** Of each list, redirect URIs and post-logout redirect URIs. */
export const MAX_REDIRECT_URIS = 100
import { parseScope } from '../scope.js'
import { isAdminAudience } from './admin-audience.js'
import { MAX_RESOURCES, resourceUriProblem } from '../resource-indicators.js'

export interface ClientSettings {
  name: string
  /** An id to use instead of a generated one (e.g. when moving clients from another server). */
  id?: string
  grantTypes?: GrantType[]
  scopes?: string[]
  defaultScopes?: string[]
  audience?: string | null
  tokenFormat?: TokenFormat
  /** The JWS algorithm of its JWT access tokens (RFC 9068 §2.1); default ES256. */
  signingAlg?: SigningAlg
  accessTokenTtl?: number
  refreshTokenAbsoluteTtl?: number
  refreshTokenSlidingTtl?: number
  refreshTokenReuseInterval?: number
  /** client_credentials token reuse window in seconds; 0 (the default) is off. */
  tokenReuseSeconds?: number
  rotateRefreshTokens?: boolean
  /** User ids the password grant may log in through this client; null (the default) is any user. */
  allowedUsers?: string[] | null
  /**
   * `none` makes a public client: no secret is made, and only grants with a person in the loop
   * (fixed at creation). `private_key_jwt` makes no secret either: the client signs assertions
   * with a key of `jwks` or `jwksUri` (exactly one of them).
   */
  tokenEndpointAuthMethod?: ClientAuthMethod
  /** A private_key_jwt client's public keys (a JWK Set); null removes them. */
  jwks?: ClientJwks | null
  /** Where a private_key_jwt client publishes its public keys (https; http only outside production). */
  jwksUri?: string | null
  applicationType?: ApplicationType | null
  redirectUris?: string[]
  postLogoutRedirectUris?: string[]
  requirePar?: boolean
  /** RFC 9449: every token request must carry a DPoP proof. */
  requireDpop?: boolean
  skipConsent?: boolean
  /** RFC 8707: further resources (absolute URIs) the client may ask for; its audience stays the default. */
  resources?: string[]
  /** RFC 8693: it may exchange a token without an actor token (impersonation). */
  allowImpersonation?: boolean
}

/** A client as shown to operators: everything but the secret digest. */
export type ClientView = Omit<Client, 'secretDigest'>

export const CLIENT_DEFAULTS = {
  grantTypes: ['client_credentials'] as GrantType[],
  tokenFormat: 'jwt' as TokenFormat,
  signingAlg: 'ES256' as SigningAlg,
  accessTokenTtl: 3600,
  // IdentityServer's defaults: 30 days absolute, 15 days sliding.
  refreshTokenAbsoluteTtl: 30 * 24 * 3600,
  refreshTokenSlidingTtl: 15 * 24 * 3600,
  refreshTokenReuseInterval: 0,
  tokenReuseSeconds: 0,
}

export { ClientValidationError }

type Deps = {
  store: ClientStore
  /** To refuse a chosen client id equal to a user's id (RFC 9700 §4.15). */
  users?: Pick<UserStore, 'getUser'>
  grants: Pick<GrantStore, 'endGrants'>
  cache: ClientCache
  clock: Clock
  random: Random
  maxAccessTokenTtl: number
  /** The issuer, whose admin audience no client may take as its own. */
  issuer: string
  /** Tells other instances to drop their cached copy of a changed client. */
  publish?: PublishChange
  /** A plain http jwks_uri is accepted (outside production); https only otherwise. */
  allowHttpJwksUri?: boolean
}

/** Whether a client of this method gets a secret: not a public one, not one that signs assertions. */
export const hasSecret = (method: ClientAuthMethod): boolean => method !== 'none' && method !== 'private_key_jwt'

/** C0 controls, DEL and C1 controls: in no client id, name or URI. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/
/**
 * No client id holds a NUL (create refuses control characters), and PostgreSQL text cannot hold
 * one at all, so a lookup of such an id answers "no such client" without asking the store.
 */
const unstorable = (id: string): boolean => id.includes('\u0000')

/** The fewest characters of a secret an operator chooses: 32 base64url characters are 192 bits. */
export const MIN_CHOSEN_SECRET_LENGTH = 32

/**
 * Secrets are stored as a fast SHA-256 digest (secrets.ts), safe only for a value too large to
 * guess: a chosen secret must be as long as a generated one nearly is, and printable.
 */
function checkChosenSecret(secret: string): void {
  if (secret.length < MIN_CHOSEN_SECRET_LENGTH || secret.length > 512 || !/^[\x21-\x7e]+$/.test(secret)) {
    throw new ClientValidationError(`a chosen client secret must be ${MIN_CHOSEN_SECRET_LENGTH} to 512 printable ASCII characters without spaces (e.g. openssl rand -base64 32)`)
  }
}

export function viewClient(client: Client): ClientView {
  const { secretDigest: _secretDigest, ...view } = client
  return view
}

/** Creates and changes clients. A secret is returned once, at creation or rotation, and stored only as a digest. */
export class ClientAdmin {
  readonly #deps: Deps
  constructor(deps: Deps) {
    this.#deps = deps
  }

  /**
   * `clientSecret` is null for a public client (`none`) and a `private_key_jwt` one: they have none.
   * `options.secret` is a secret the operator chose (configuration as code reads it from an
   * environment variable) instead of a generated one; only its digest is stored.
   */
  async create(settings: ClientSettings, options: { secret?: string } = {}): Promise<{ client: ClientView; clientSecret: string | null }> {
    const now = this.#deps.clock.now()
    const tokenEndpointAuthMethod = settings.tokenEndpointAuthMethod ?? 'client_secret_basic'
    if (options.secret !== undefined && !hasSecret(tokenEndpointAuthMethod)) throw new ClientValidationError(`a client of auth method ${tokenEndpointAuthMethod} has no secret; give it none`)
    if (options.secret !== undefined) checkChosenSecret(options.secret)
    const secret = hasSecret(tokenEndpointAuthMethod) ? (options.secret ?? generateClientSecret(this.#deps.random)) : null
    if (settings.id !== undefined) await this.#checkChosenId(settings.id)
    const client = await this.#validateKeys({
      id: settings.id ?? generateClientId(this.#deps.random),
      name: settings.name,
      secretDigest: secret === null ? '' : digestSecret(secret),
      tokenEndpointAuthMethod,
      applicationType: settings.applicationType ?? null,
      redirectUris: settings.redirectUris ?? [],
      postLogoutRedirectUris: settings.postLogoutRedirectUris ?? [],
      requirePar: settings.requirePar ?? false,
      requireDpop: settings.requireDpop ?? false,
      skipConsent: settings.skipConsent ?? false,
      jwks: settings.jwks ?? null,
      jwksUri: settings.jwksUri ?? null,
      resources: settings.resources ?? [],
      allowImpersonation: settings.allowImpersonation ?? false,
      grantTypes: settings.grantTypes ?? CLIENT_DEFAULTS.grantTypes,
      scopes: settings.scopes ?? [],
      defaultScopes: settings.defaultScopes ?? [],
      audience: settings.audience ?? null,
      tokenFormat: settings.tokenFormat ?? CLIENT_DEFAULTS.tokenFormat,
      signingAlg: settings.signingAlg ?? CLIENT_DEFAULTS.signingAlg,
      accessTokenTtl: settings.accessTokenTtl ?? Math.min(CLIENT_DEFAULTS.accessTokenTtl, this.#deps.maxAccessTokenTtl),
      refreshTokenAbsoluteTtl: settings.refreshTokenAbsoluteTtl ?? CLIENT_DEFAULTS.refreshTokenAbsoluteTtl,
      refreshTokenSlidingTtl: settings.refreshTokenSlidingTtl ?? CLIENT_DEFAULTS.refreshTokenSlidingTtl,
      refreshTokenReuseInterval: settings.refreshTokenReuseInterval ?? CLIENT_DEFAULTS.refreshTokenReuseInterval,
      tokenReuseSeconds: settings.tokenReuseSeconds ?? CLIENT_DEFAULTS.tokenReuseSeconds,
      rotateRefreshTokens: settings.rotateRefreshTokens ?? true,
      tokensNotBefore: null,
      allowedUsers: settings.allowedUsers ?? null,
      createdAt: now,
      updatedAt: now,
    }).then((checked) => this.#validate(checked))
    await this.#deps.store.insertClient(client)
    // Unknown ids are cached as such (client-cache.ts): this one, here and on other instances, is known now.
    await this.#changed(client.id)
    return { client: viewClient(client), clientSecret: secret }
  }

  /**
   * RFC 9700 §4.15: a client_credentials token's `sub` is the client id, a user token's the user
   * id, so an id an operator chooses must never pass for a user's. User ids are UUIDs: a chosen
   * client id may not look like one, nor equal an existing user's id. Generated ids (24 hex
   * characters) never do.
   */
  async #checkChosenId(id: string): Promise<void> {
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
      throw new ClientValidationError('a client id may not have the form of a user id (a UUID): the sub of its tokens would pass for a user\'s (RFC 9700 §4.15)')
    }
    if (this.#deps.users && (await this.#deps.users.getUser(id))) throw new ClientValidationError('a client id may not equal a user id: the sub of its tokens would pass for that user\'s (RFC 9700 §4.15)')
  }

  async get(id: string): Promise<ClientView | undefined> {
    if (unstorable(id)) return undefined
    const client = await this.#deps.store.getClient(id)
    return client ? viewClient(client) : undefined
  }

  async list(page: { limit: number; after?: string }): Promise<ClientView[]> {
    return (await this.#deps.store.listClients(page)).map(viewClient)
  }

  async update(id: string, changes: Partial<Omit<ClientSettings, 'id'>>): Promise<ClientView | undefined> {
    if (unstorable(id)) return undefined
    const current = await this.#deps.store.getClient(id)
    if (!current) return undefined
    const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined))
    // Before the other checks, so the answer names the real problem (not e.g. a grant a public client may not use).
    if (changes.tokenEndpointAuthMethod !== undefined && (changes.tokenEndpointAuthMethod === 'none') !== (current.tokenEndpointAuthMethod === 'none')) {
      throw new ClientValidationError('a client cannot change between public (auth method none) and confidential; create a new client')
    }
    const method = changes.tokenEndpointAuthMethod ?? current.tokenEndpointAuthMethod
    const keyChanges: Partial<Client> =
      method !== 'private_key_jwt'
        ? // Leaving private_key_jwt: its keys go (it then has no secret until rotate-secret makes one).
          current.tokenEndpointAuthMethod === 'private_key_jwt' ? { jwks: null, jwksUri: null } : {}
        : // One of the two replaces the other: giving jwks_uri drops the inline keys, and back.
          changes.jwks !== undefined && changes.jwks !== null ? { jwksUri: changes.jwksUri ?? null } : changes.jwksUri !== undefined && changes.jwksUri !== null ? { jwks: changes.jwks ?? null } : {}
    // Becoming private_key_jwt: the secret stops working at once (its digest goes).
    const secretChanges: Partial<Client> = method === 'private_key_jwt' ? { secretDigest: '' } : {}
    const checked = await this.#validateKeys({ ...current, ...defined, ...keyChanges, ...secretChanges, updatedAt: this.#deps.clock.now() })
    const client = this.#validate(checked)
    await this.#deps.store.updateClient(client)
    await this.#changed(id)
    return viewClient(client)
  }

  /**
   * Replaces the secret; the old one stops working at once here, and on other instances as soon
   * as they hear of it. With `revokeTokens`, every token issued so far stops too: the client's
   * grants end, and its client_credentials tokens (which belong to no grant) fall before its
   * new not-before instant.
   */
  async rotateSecret(id: string, options: { revokeTokens?: boolean; secret?: string } = {}): Promise<{ client: ClientView; clientSecret: string } | undefined> {
    if (unstorable(id)) return undefined
    const current = await this.#deps.store.getClient(id)
    if (!current) return undefined
    if (current.tokenEndpointAuthMethod === 'none') throw new ClientValidationError(`client ${id} is a public client (auth method none): it has no secret to rotate`)
    if (current.tokenEndpointAuthMethod === 'private_key_jwt') {
      throw new ClientValidationError(`client ${id} authenticates with private_key_jwt: it has no secret to rotate; change its keys (jwks or jwks_uri) instead, or its auth method to a secret one first`)
    }
    if (options.secret !== undefined) checkChosenSecret(options.secret)
    const secret = options.secret ?? generateClientSecret(this.#deps.random)
    const now = this.#deps.clock.now()
    const client = { ...current, secretDigest: digestSecret(secret), updatedAt: now, ...(options.revokeTokens ? { tokensNotBefore: now } : {}) }
    await this.#deps.store.updateClient(client)
    if (options.revokeTokens) await endGrants(this.#deps, { clientId: id }, 'secret_rotated')
    await this.#changed(id)
    return { client: viewClient(client), clientSecret: secret }
  }

  /**
   * Ends every token the client holds, whatever its authentication: its grants end and its
   * earlier access tokens (client_credentials ones included) fall before its new not-before
   * instant. For a client whose key or secret may have leaked — a private_key_jwt or public
   * client has no secret to rotate — after its keys are changed. Undefined: no such client.
   */
  async revokeTokens(id: string): Promise<{ client: ClientView; ended: number } | undefined> {
    if (unstorable(id)) return undefined
    const current = await this.#deps.store.getClient(id)
    if (!current) return undefined
    const now = this.#deps.clock.now()
    const client = { ...current, tokensNotBefore: now, updatedAt: now }
    await this.#deps.store.updateClient(client)
    const ended = await endGrants(this.#deps, { clientId: id }, 'tokens_revoked')
    await this.#changed(id)
    return { client: viewClient(client), ended }
  }

  /** Whether `secret` is the client's current secret (false for an unknown client, or one without a secret). */
  async secretMatches(id: string, secret: string): Promise<boolean> {
    if (unstorable(id)) return false
    const current = await this.#deps.store.getClient(id)
    return current !== undefined && current.secretDigest !== '' && secretMatchesDigest(secret, current.secretDigest)
  }

  /** Deletes the client and everything it holds; its tokens stop working at once (introspection finds no client). */
  async delete(id: string): Promise<boolean> {
    if (unstorable(id)) return false
    await endGrants(this.#deps, { clientId: id }, 'client_deleted')
    const deleted = await this.#deps.store.deleteClient(id)
    await this.#changed(id)
    return deleted
  }

  async #changed(id: string): Promise<void> {
    this.#deps.cache.invalidate(id)
    await this.#deps.publish?.({ kind: 'client', id })
  }

  /**
   * A private_key_jwt client has exactly one of `jwks` (public keys only, each importable) and
   * `jwksUri`; any other client has neither. Async: every key is imported once to be sure.
   */
  async #validateKeys(client: Client): Promise<Client> {
    if (client.tokenEndpointAuthMethod !== 'private_key_jwt') {
      if (client.jwks !== null || client.jwksUri !== null) throw new ClientValidationError('jwks and jwks_uri are for private_key_jwt clients only (set the auth method to private_key_jwt)')
      return client
    }
    if ((client.jwks === null) === (client.jwksUri === null)) {
      throw new ClientValidationError('a private_key_jwt client needs exactly one of jwks (its public keys) and jwks_uri (where it publishes them)')
    }
    try {
      if (client.jwks !== null) return { ...client, jwks: await checkJwksKeys(client.jwks) }
      return { ...client, jwksUri: checkJwksUri(client.jwksUri ?? '', { allowHttp: this.#deps.allowHttpJwksUri === true }) }
    } catch (error) {
      if (error instanceof JwksError) throw new ClientValidationError(`${client.jwks !== null ? 'jwks: ' : ''}${error.message}`)
      throw error
    }
  }

  #validate(client: Client): Client {
    if (client.name.trim() === '') throw new ClientValidationError('name must not be empty')
    if (client.id === '' || client.id.length > 200) throw new ClientValidationError('client id must be 1 to 200 characters')
    if (CONTROL_CHARACTERS.test(client.id) || CONTROL_CHARACTERS.test(client.name)) throw new ClientValidationError('client id and name must not contain control characters')
    for (const grant of client.grantTypes) {
      if (!GRANT_TYPES.includes(grant)) throw new ClientValidationError(`unknown grant type "${grant}" (one of ${GRANT_TYPES.join(', ')})`)
    }
    for (const scopes of [client.scopes, client.defaultScopes]) {
      try {
        parseScope(scopes.join(' '))
      } catch {
        throw new ClientValidationError(`invalid scope in "${scopes.join(' ')}"`)
      }
    }
    for (const scope of client.defaultScopes) {
      if (!client.scopes.includes(scope)) throw new ClientValidationError(`default scope "${scope}" is not among the client's scopes`)
    }
    if (isAdminAudience(client.audience, this.#deps.issuer)) {
      throw new ClientValidationError(`audience ${client.audience} is reserved for Gatehouse's management API; operators get it with the audience parameter (docs/management.md)`)
    }
    if (client.tokenFormat !== 'jwt' && client.tokenFormat !== 'opaque') throw new ClientValidationError('token format must be jwt or opaque')
    if (!SIGNING_ALGS.includes(client.signingAlg)) throw new ClientValidationError(`signing algorithm must be ${SIGNING_ALGS.join(' or ')}, not "${String(client.signingAlg)}"`)
    const positive = (value: number, what: string, max = Number.MAX_SAFE_INTEGER): void => {
      if (!Number.isInteger(value) || value <= 0 || value > max) throw new ClientValidationError(`${what} must be a whole number of seconds from 1 to ${max}`)
    }
    positive(client.accessTokenTtl, 'access token lifetime', this.#deps.maxAccessTokenTtl)
    positive(client.refreshTokenAbsoluteTtl, 'refresh token absolute lifetime')
    positive(client.refreshTokenSlidingTtl, 'refresh token sliding lifetime')
    if (!Number.isInteger(client.refreshTokenReuseInterval) || client.refreshTokenReuseInterval < 0 || client.refreshTokenReuseInterval > 300) {
      throw new ClientValidationError('refresh token reuse interval must be 0 to 300 seconds')
    }
    if (!Number.isInteger(client.tokenReuseSeconds) || client.tokenReuseSeconds < 0 || client.tokenReuseSeconds > 3600) {
      throw new ClientValidationError('token reuse must be 0 (off) to 3600 seconds')
    }
    if (client.allowedUsers !== null && client.allowedUsers.some((user) => user === '' || user.length > 200 || /\s/.test(user))) {
      throw new ClientValidationError('allowed users must be user ids of 1 to 200 characters without spaces')
    }
    if (!CLIENT_AUTH_METHODS.includes(client.tokenEndpointAuthMethod)) throw new ClientValidationError(`auth method must be one of ${CLIENT_AUTH_METHODS.join(', ')}`)
    if (client.applicationType !== null && !APPLICATION_TYPES.includes(client.applicationType)) throw new ClientValidationError(`application type must be one of ${APPLICATION_TYPES.join(', ')}`)
    if (client.tokenEndpointAuthMethod === 'none') {
      const refused = client.grantTypes.filter((grant) => !PUBLIC_CLIENT_GRANT_TYPES.includes(grant))
      if (refused.length > 0) throw new ClientValidationError(`a public client (auth method none) may use only ${PUBLIC_CLIENT_GRANT_TYPES.join(', ')}, not ${refused.join(', ')}`)
    }
    if (client.redirectUris.length > MAX_REDIRECT_URIS || client.postLogoutRedirectUris.length > MAX_REDIRECT_URIS) {
      throw new ClientValidationError(`a client may have at most ${MAX_REDIRECT_URIS} redirect URIs and ${MAX_REDIRECT_URIS} post-logout redirect URIs`)
    }
    for (const uri of [...client.redirectUris, ...client.postLogoutRedirectUris]) {
      // Control characters (NUL above all: PostgreSQL text refuses it) are in no URI (RFC 3986 §2).
      if (CONTROL_CHARACTERS.test(uri)) throw new ClientValidationError(`redirect URI ${JSON.stringify(uri)} must not contain control characters`)
      checkRedirectUri(uri)
    }
    if (client.grantTypes.includes('authorization_code') && client.redirectUris.length === 0) {
      throw new ClientValidationError('the authorization_code grant needs at least one redirect URI')
    }
    if (typeof client.requirePar !== 'boolean' || typeof client.skipConsent !== 'boolean') throw new ClientValidationError('requirePar and skipConsent must be true or false')
    if (typeof client.requireDpop !== 'boolean') throw new ClientValidationError('requireDpop must be true or false')
    if (typeof client.allowImpersonation !== 'boolean') throw new ClientValidationError('allowImpersonation must be true or false')
    if (client.resources.length > MAX_RESOURCES) throw new ClientValidationError(`a client may have at most ${MAX_RESOURCES} resources`)
    for (const resource of client.resources) {
      const problem = resourceUriProblem(resource)
      if (problem !== undefined) throw new ClientValidationError(`resource ${JSON.stringify(resource)} ${problem} (RFC 8707 §2: an absolute URI without a fragment)`)
      if (isAdminAudience(resource, this.#deps.issuer)) throw new ClientValidationError(`resource ${resource} is reserved for Gatehouse's management API; operators get it with the audience parameter (docs/management.md)`)
    }
    return {
      ...client,
      // RFC 9700 §4.14.2: a public client's refresh tokens are not sender-constrained, so they always rotate.
      rotateRefreshTokens: client.tokenEndpointAuthMethod === 'none' ? true : client.rotateRefreshTokens,
      redirectUris: [...new Set(client.redirectUris)],
      postLogoutRedirectUris: [...new Set(client.postLogoutRedirectUris)],
      resources: [...new Set(client.resources)],
      scopes: [...new Set(client.scopes)], grantTypes: [...new Set(client.grantTypes)], allowedUsers: client.allowedUsers === null ? null : [...new Set(client.allowedUsers)] }
  }
}
