import type { ConsoleApp, ConsoleAppStore } from './console-app-store.js'
import type { UserStore } from '../credentials/user-store.js'
import type { AccessTokenStore } from '../tokens/token-store.js'
import type { AuditEvent } from '../audit/audit-store.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { ClientUsageCounter, UsageSummary } from '../audit/client-usage-counter.js'
import type { Clock } from '../clock.js'
import type { AbuseGuard } from '../abuse/abuse-guard.js'
import { OAuthError } from '../errors.js'
import { checkUserCredentials } from '../grants/password.js'
import { DEVICE_CODE_GRANT, type ApplicationType, type ClientJwks, type GrantType, type TokenFormat, type User } from '../types.js'
import type { ApiKeyAdmin, ApiKeyView } from './api-key-admin.js'
import type { ClientAdmin, ClientView } from './client-admin.js'
import type { Api, ApiScope } from '../apis/api-store.js'

export class ConsoleError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConsoleError'
  }
}

/**
 * The kinds of application a developer picks from in the console, in plain words on the form.
 * Each stands for its grants and client authentication (APP_TYPE_SETTINGS). `password` is
 * seed 001's "Resource Owner Password" (its "Grant Type"), kept for that walk-through.
 */
export type ConsoleAppType = 'web' | 'spa' | 'native' | 'device' | 'machine' | 'password' | 'api_key'
export const CONSOLE_APP_TYPES: readonly ConsoleAppType[] = ['web', 'spa', 'native', 'device', 'machine', 'password', 'api_key']

/** What an application type makes (api_key is made by ApiKeyAdmin, with the api_key grant). */
export interface AppTypeSettings {
  grantTypes: GrantType[]
  /** Public (no secret; PKCE or the device code) or confidential. */
  public: boolean
  /** Redirect URIs are asked for, and at least one is required (authorization_code). */
  redirectUris: boolean
  /**
   * Other people sign in to it through the consent page, so any user may (allowedUsers null);
   * otherwise only the owner logs in through it (seed 001: "your account email").
   */
  signsInOthers: boolean
  applicationType: ApplicationType | null
}

export const APP_TYPE_SETTINGS: Readonly<Record<ConsoleAppType, AppTypeSettings>> = {
  web: { grantTypes: ['authorization_code', 'refresh_token'], public: false, redirectUris: true, signsInOthers: true, applicationType: 'web' },
  spa: { grantTypes: ['authorization_code', 'refresh_token'], public: true, redirectUris: true, signsInOthers: true, applicationType: 'spa' },
  native: { grantTypes: ['authorization_code', 'refresh_token'], public: true, redirectUris: true, signsInOthers: true, applicationType: 'native' },
  device: { grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'], public: true, redirectUris: false, signsInOthers: true, applicationType: 'device' },
  machine: { grantTypes: ['client_credentials'], public: false, redirectUris: false, signsInOthers: false, applicationType: 'machine' },
  password: { grantTypes: ['password', 'refresh_token'], public: false, redirectUris: false, signsInOthers: false, applicationType: null },
  api_key: { grantTypes: ['api_key'], public: false, redirectUris: false, signsInOthers: false, applicationType: 'api_key' },
}

/** The console's type of an existing application (older ones have no application type). */
export function appTypeOf(view: { app: ConsoleApp; client: ClientView }): ConsoleAppType {
  if (view.app.kind === 'api_key') return 'api_key'
  const type = view.client.applicationType
  if (type !== null && type !== 'api_key') return type
  return view.client.grantTypes.includes('password') ? 'password' : 'machine'
}

/**
 * Scopes a console application may always take, whatever the registry says: the OpenID
 * Connect ones (Core §5.4, §11), which name the user rather than an API. Every other scope
 * must be a self-service scope of a registered API.
 */
export const CONSOLE_DEFAULT_SCOPES: readonly { name: string; description: string }[] = [
  { name: 'openid', description: 'Sign users in: the token names the user (OpenID Connect).' },
  { name: 'profile', description: "The user's name." },
  { name: 'email', description: "The user's e-mail address." },
  { name: 'offline_access', description: 'Refresh tokens, so the application stays signed in.' },
]

/** What the create form offers: the default scopes, and each API's self-service scopes. */
export interface ScopeChoices {
  always: readonly { name: string; description: string }[]
  apis: { name: string; identifier: string; scopes: ApiScope[] }[]
}

/**
 * Refuses, naming each and saying why, every scope that is neither a default console scope
 * nor a self-service scope of a registered API (issue 11: a developer must not mint tokens
 * for any scope or API they like).
 */
export function checkConsoleScopes(scopes: readonly string[], apis: readonly Api[]): void {
  const reasons: string[] = []
  for (const name of scopes) {
    if (CONSOLE_DEFAULT_SCOPES.some((scope) => scope.name === name)) continue
    const api = apis.find((candidate) => candidate.scopes.some((scope) => scope.name === name))
    const scope = api?.scopes.find((candidate) => candidate.name === name)
    if (!api || !scope) reasons.push(`Scope "${name}" is not a scope of any registered API.`)
    else if (!scope.selfService) reasons.push(`Scope "${name}" of ${api.name} (${api.identifier}) is restricted: only an operator can grant it.`)
  }
  if (reasons.length > 0) throw new ConsoleError(`${reasons.join(' ')} Choose from the scopes listed on this page, or ask an operator.`)
}

export interface NewApplication {
  name: string
  type: ConsoleAppType
  /** For web, single-page and native apps; ignored for the others. */
  redirectUris: string[]
  scopes: string[]
  tokenFormat: TokenFormat
  /** Access token lifetime in seconds. */
  accessTokenTtl: number
  /**
   * A machine-to-machine application may prove itself with its own key (private_key_jwt) instead
   * of a secret: then `jwks` holds the public key(s) the developer pasted. Other types ignore it.
   */
  clientAuth?: { method: 'private_key_jwt'; jwks: ClientJwks }
}

/**
 * What a developer sees once, right after Generate or Rotate: a public client has only its id,
 * and so does a private_key_jwt one (`keys`: the developer holds the private key, we never saw it).
 */
export type Credentials =
  | { kind: 'client'; clientId: string; clientSecret: string }
  | { kind: 'public'; clientId: string }
  | { kind: 'keys'; clientId: string }
  | { kind: 'api_key'; clientId: string; apiKey: string }

/** What the edit form changes. */
export interface ApplicationChanges {
  name: string
  scopes: string[]
  /** Access token lifetime in seconds. */
  accessTokenTtl: number
}

export interface ApplicationView {
  app: ConsoleApp
  client: ClientView
  apiKey: ApiKeyView | null
}


/** Signed-out console sessions share the deny list of revoked JWT ids under this prefix (no JWT id has it). */
const SIGNED_OUT_PREFIX = 'console-session:'

type Deps = {
  /** The deny list (revokeJwt / isJwtRevoked) also remembers signed-out console sessions. */
  store: ConsoleAppStore & UserStore & Pick<AccessTokenStore, 'revokeJwt' | 'isJwtRevoked'>
  clients: ClientAdmin
  apiKeys: ApiKeyAdmin
  /** The API registry, read fresh (not the token path's copy): the form and its check see every change. */
  apis: { list(): Promise<Api[]> }
  audit: AuditLog
  /** Token counts of every instance (the store) and this one's unflushed part. */
  activity: Pick<ClientUsageCounter, 'usageOf'>
  clock: Clock
  /** Login lockout shared with the password grant; none when omitted. */
  guard?: AbuseGuard
}

/** Where a console action came from: the signed-in user and the request's IP. */
export interface ConsoleActor {
  userId: string
  ip: string
}

/**
 * The developer console's use cases: a signed-in user creates, lists, rotates and deletes
 * their own applications. Every change is an audit event with the user as actor.
 */
export class ConsoleApps {
  readonly #deps: Deps
  constructor(deps: Deps) {
    this.#deps = deps
  }

  /**
   * The password grant's own check: same cost and answer for unknown user, disabled user,
   * wrong password and a locked username (the login lockout applies here too).
   */
  async signIn(username: string, password: string, ip: string): Promise<User | undefined> {
    try {
      return await checkUserCredentials(this.#deps.store, username, password, this.#deps.guard, ip)
    } catch (error) {
      if (!(error instanceof OAuthError) || error.code !== 'invalid_grant') throw error
      this.#deps.audit.note({ actor: 'anonymous', action: 'user.authentication_failed', target: `user:${username.trim().toLowerCase()}`, ip, details: { reason: error.debug ?? 'invalid credentials', via: 'console' } })
      return undefined
    }
  }

  async currentUser(userId: string): Promise<User | undefined> {
    const user = await this.#deps.store.getUser(userId)
    return user && !user.disabled ? user : undefined
  }

  /**
   * Signing out: the session (known by its nonce) is remembered as ended until it would have
   * expired anyway, on every instance, so a copy of its cookie stops working too.
   */
  async signOut(sessionNonce: string, expiresAt: number): Promise<void> {
    await this.#deps.store.revokeJwt(`${SIGNED_OUT_PREFIX}${sessionNonce}`, expiresAt)
  }

  async signedOut(sessionNonce: string): Promise<boolean> {
    return this.#deps.store.isJwtRevoked(`${SIGNED_OUT_PREFIX}${sessionNonce}`)
  }

  async create(actor: ConsoleActor, input: NewApplication): Promise<{ view: ApplicationView; credentials: Credentials }> {
    const name = input.name.trim()
    if (name === '') throw new ConsoleError('App Name must not be empty.')
    if (!CONSOLE_APP_TYPES.includes(input.type)) throw new ConsoleError('Choose an application type.')
    const settings = APP_TYPE_SETTINGS[input.type]
    if (input.clientAuth && input.type !== 'machine') throw new ConsoleError('Private key JWT is for Machine to machine applications; the other types sign people in or use an API key.')
    checkConsoleScopes(input.scopes, await this.#deps.apis.list())
    // A console application that logs people in through its own form (password, API-key user
    // logins) logs in its owner only (seed 001: "your account email"); an operator may allow
    // more. One that signs people in through the sign-in and consent pages takes anyone who
    // consents, and console applications never skip consent.
    const allowedUsers = settings.signsInOthers ? null : [actor.userId]
    const now = this.#deps.clock.now()
    let credentials: Credentials
    let apiKeyId: string | null = null
    if (input.type === 'api_key') {
      const { key, apiKey } = await this.#deps.apiKeys.create({ name, scopes: input.scopes })
      await this.#deps.clients.update(key.clientId, { tokenFormat: input.tokenFormat, accessTokenTtl: input.accessTokenTtl, allowedUsers, applicationType: settings.applicationType })
      credentials = { kind: 'api_key', clientId: key.clientId, apiKey }
      apiKeyId = key.id
    } else {
      // Refresh tokens under either dialect rule (the IdentityServer one asks for offline_access).
      const scopes = settings.grantTypes.includes('refresh_token') && !input.scopes.includes('offline_access') ? [...input.scopes, 'offline_access'] : input.scopes
      const { client, clientSecret } = await this.#deps.clients.create({
        name,
        grantTypes: [...settings.grantTypes],
        tokenEndpointAuthMethod: settings.public ? 'none' : input.clientAuth ? 'private_key_jwt' : 'client_secret_basic',
        ...(input.clientAuth ? { jwks: input.clientAuth.jwks } : {}),
        applicationType: settings.applicationType,
        redirectUris: settings.redirectUris ? input.redirectUris : [],
        skipConsent: false,
        scopes,
        tokenFormat: input.tokenFormat,
        accessTokenTtl: input.accessTokenTtl,
        allowedUsers,
      })
      credentials =
        clientSecret !== null
          ? { kind: 'client', clientId: client.id, clientSecret }
          : client.tokenEndpointAuthMethod === 'private_key_jwt'
            ? { kind: 'keys', clientId: client.id }
            : { kind: 'public', clientId: client.id }
    }
    const app: ConsoleApp = { clientId: credentials.clientId, ownerUserId: actor.userId, kind: credentials.kind === 'api_key' ? 'api_key' : 'client', apiKeyId, createdAt: now }
    await this.#deps.store.insertConsoleApp(app)
    await this.#deps.audit.record({ actor: `user:${actor.userId}`, action: 'client.created', target: `client:${app.clientId}`, ip: actor.ip, details: { name, type: input.type, grant_types: settings.grantTypes, scopes: input.scopes, ...(input.clientAuth ? { token_endpoint_auth_method: 'private_key_jwt' } : {}), via: 'console' } })
    const view = await this.get(actor.userId, app.clientId)
    if (!view) throw new ConsoleError('The application vanished while it was being created.')
    return { view, credentials }
  }

  /** The scopes the create form offers, with their descriptions. */
  async scopeChoices(): Promise<ScopeChoices> {
    const apis = (await this.#deps.apis.list())
      .map((api) => ({ name: api.name, identifier: api.identifier, scopes: api.scopes.filter((scope) => scope.selfService) }))
      .filter((api) => api.scopes.length > 0)
    return { always: CONSOLE_DEFAULT_SCOPES, apis }
  }

  async list(userId: string): Promise<ApplicationView[]> {
    const apps = await this.#deps.store.listConsoleApps(userId)
    const views = await Promise.all(apps.map((app) => this.#view(app)))
    return views.filter((view): view is ApplicationView => view !== undefined)
  }

  /** Undefined when there is no such application or it belongs to someone else. */
  async get(userId: string, clientId: string): Promise<ApplicationView | undefined> {
    const app = await this.#deps.store.getConsoleApp(clientId)
    if (!app || app.ownerUserId !== userId) return undefined
    return this.#view(app)
  }

  /** A new client secret, or for an API-key application a new key (the old key is revoked). A public application has neither. */
  async rotate(actor: ConsoleActor, clientId: string): Promise<Credentials | undefined> {
    const view = await this.get(actor.userId, clientId)
    if (!view) return undefined
    if (view.client.tokenEndpointAuthMethod === 'none') throw new ConsoleError('This application is public: it has no secret to rotate. It proves itself with PKCE (or the device code) instead.')
    if (view.client.tokenEndpointAuthMethod === 'private_key_jwt') throw new ConsoleError('This application proves itself with its own key (private key JWT): it has no secret to rotate. To change keys, ask an operator to update its JWKS.')
    let credentials: Credentials
    if (view.app.kind === 'api_key') {
      const { key, apiKey } = await this.#deps.apiKeys.create({ name: view.apiKey?.name ?? view.client.name, clientId, ...(view.apiKey ? { scopes: view.apiKey.scopes } : {}) })
      if (view.app.apiKeyId) await this.#deps.apiKeys.revoke(view.app.apiKeyId)
      await this.#deps.store.deleteConsoleApp(clientId)
      await this.#deps.store.insertConsoleApp({ ...view.app, apiKeyId: key.id })
      credentials = { kind: 'api_key', clientId, apiKey }
      await this.#deps.audit.record({ actor: `user:${actor.userId}`, action: 'api_key.rotated', target: `client:${clientId}`, ip: actor.ip, details: { new_key_id: key.id, old_key_id: view.app.apiKeyId, via: 'console' } })
    } else {
      const rotated = await this.#deps.clients.rotateSecret(clientId)
      if (!rotated) return undefined
      credentials = { kind: 'client', clientId, clientSecret: rotated.clientSecret }
      await this.#deps.audit.record({ actor: `user:${actor.userId}`, action: 'client.secret_rotated', target: `client:${clientId}`, ip: actor.ip, details: { via: 'console' } })
    }
    return credentials
  }

  /**
   * Changes what a developer may change after Generate: the name, the scopes (newly added ones
   * must be self-service, as on the create form; scopes it holds already, an operator's grant
   * included, may stay) and the access-token lifetime (ClientAdmin bounds it by the server's
   * maximum). An API-key application's scopes belong to its key, which cannot change: only its
   * name and lifetime do. Undefined when the application is not the user's.
   */
  async update(actor: ConsoleActor, clientId: string, input: ApplicationChanges): Promise<ApplicationView | undefined> {
    const view = await this.get(actor.userId, clientId)
    if (!view) return undefined
    const name = input.name.trim()
    if (name === '') throw new ConsoleError('App Name must not be empty.')
    if (name.length > 200) throw new ConsoleError('App Name must be at most 200 characters.')
    const type = appTypeOf(view)
    const fields: string[] = []
    if (name !== view.client.name) fields.push('name')
    if (input.accessTokenTtl !== view.client.accessTokenTtl) fields.push('access_token_ttl')
    let scopes: string[] | undefined
    if (type !== 'api_key') {
      const held = view.client.scopes
      checkConsoleScopes(input.scopes.filter((scope) => !held.includes(scope)), await this.#deps.apis.list())
      // As on create: an application with refresh tokens keeps offline_access.
      const wanted = APP_TYPE_SETTINGS[type].grantTypes.includes('refresh_token') && !input.scopes.includes('offline_access') ? [...input.scopes, 'offline_access'] : [...input.scopes]
      scopes = [...new Set(wanted)]
      if (scopes.length !== held.length || scopes.some((scope) => !held.includes(scope))) fields.push('scopes')
    }
    if (fields.length === 0) return view
    await this.#deps.clients.update(clientId, { name, accessTokenTtl: input.accessTokenTtl, ...(scopes ? { scopes } : {}) })
    await this.#deps.audit.record({ actor: `user:${actor.userId}`, action: 'client.updated', target: `client:${clientId}`, ip: actor.ip, details: { fields, ...(scopes ? { scopes } : {}), via: 'console' } })
    return this.get(actor.userId, clientId)
  }

  /**
   * Usernames of the users an audit event names as `user:<id>` (the activity table shows
   * people, not ids); a user deleted since is left out.
   */
  async usernames(events: readonly AuditEvent[]): Promise<Record<string, string>> {
    const ids = [...new Set(events.flatMap((event) => [event.actor, event.target ?? '']).filter((who) => who.startsWith('user:')).map((who) => who.slice('user:'.length)))]
    const users = await Promise.all(ids.map(async (id) => [id, (await this.#deps.store.getUser(id))?.username] as const))
    return Object.fromEntries(users.filter((entry): entry is readonly [string, string] => entry[1] !== undefined))
  }

  async delete(actor: ConsoleActor, clientId: string): Promise<boolean> {
    const view = await this.get(actor.userId, clientId)
    if (!view) return false
    await this.#deps.clients.delete(clientId)
    await this.#deps.store.deleteConsoleApp(clientId)
    await this.#deps.audit.record({ actor: `user:${actor.userId}`, action: 'client.deleted', target: `client:${clientId}`, ip: actor.ip, details: { name: view.client.name, via: 'console' } })
    return true
  }

  /** Tokens issued to the client (every instance, kept across restarts), and the latest audit events about it. */
  async activity(clientId: string): Promise<UsageSummary & { events: AuditEvent[]; usernames: Record<string, string> }> {
    const [events, usage] = await Promise.all([this.#deps.audit.list({ limit: 20, target: `client:${clientId}` }), this.#deps.activity.usageOf(clientId)])
    return { ...usage, events, usernames: await this.usernames(events) }
  }

  async #view(app: ConsoleApp): Promise<ApplicationView | undefined> {
    const client = await this.#deps.clients.get(app.clientId)
    if (!client) return undefined
    const apiKey = app.apiKeyId ? ((await this.#deps.apiKeys.get(app.apiKeyId)) ?? null) : null
    return { app, client, apiKey }
  }
}
