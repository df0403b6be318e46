import type { ApiCatalog } from '../audience.js'
import type { ClientCache } from '../client-cache.js'
import type { Clock } from '../clock.js'
import { digestSecret } from '../credentials/secrets.js'
import type { Random } from '../random.js'
import type { Client, User } from '../types.js'
import type { AuthorizationCodeStore } from './authorization-code-store.js'
import { AuthorizationRedirectError, type AuthorizeErrorCode } from './authorization-errors.js'
import { checkAuthorizationRequest, REQUEST_URI_PREFIX, withJoinedResources, type AuthorizationRequest, type RawParameters } from './authorization-request.js'
import type { Consents } from './consents.js'
import type { PushedRequestStore } from './pushed-request-store.js'
import type { LiveSession } from './sign-in-sessions.js'

/** What the hosted pages do next with an authorization request. */
export type AuthorizationStep =
  | { kind: 'sign-in'; request: AuthorizationRequest }
  | { kind: 'consent'; request: AuthorizationRequest; user: User; scopes: ScopeDescription[] }
  | { kind: 'redirect'; location: string }

export interface ScopeDescription {
  name: string
  /** In plain words, for the consent page. */
  description: string
}

/** What the person just did on a hosted page, which the request's own rules then weigh. */
export interface Interaction {
  /** The password was entered in this very exchange (satisfies prompt=login and max_age). */
  signedInNow?: boolean
  consent?: 'allow' | 'deny'
}

/** OpenID Connect Core §5.4 and §11, in the words the consent page uses. */
const OPENID_SCOPE_WORDS: Record<string, string> = {
  openid: 'Sign you in with your account',
  profile: 'See your name',
  email: 'See your email address',
  offline_access: 'Stay connected when you are not using it',
}

export interface AuthorizerOptions {
  /** RFC 6749 §4.1.2: "a maximum authorization code lifetime of 10 minutes is RECOMMENDED"; ours is 60 s. */
  codeTtlSeconds: number
  /** RFC 9126 §2.2: how long a pushed request stays usable; long enough to sign in through it. */
  pushedRequestTtlSeconds: number
}

type Deps = {
  clients: ClientCache
  codes: AuthorizationCodeStore
  pushedRequests: PushedRequestStore
  consents: Consents
  apis: ApiCatalog
  clock: Clock
  random: Random
  issuer: string
}

/**
 * The authorization endpoint's decisions (RFC 6749 §4.1, OpenID Connect Core §3.1.2), without
 * HTTP: given a checked request and the person's sign-in session, sign in, ask consent, or
 * answer at the redirect URI with a code or an error.
 */
export class Authorizer {
  readonly #deps: Deps
  readonly #options: AuthorizerOptions

  constructor(deps: Deps, options: AuthorizerOptions) {
    this.#deps = deps
    this.#options = options
  }

  /** Checks the parameters; throws AuthorizationPageError or AuthorizationRedirectError. */
  check(parameters: RawParameters): Promise<AuthorizationRequest> {
    return checkAuthorizationRequest(this.#deps, parameters)
  }

  async decide(request: AuthorizationRequest, live: LiveSession | undefined, interaction: Interaction = {}): Promise<AuthorizationStep> {
    const now = this.#deps.clock.now()
    const stale = live !== undefined && request.maxAge !== undefined && now - live.session.authTime > request.maxAge * 1000
    const mustSignIn = live === undefined || (!interaction.signedInNow && (request.prompt.has('login') || stale))
    if (mustSignIn) {
      if (request.prompt.has('none')) return this.#error(request, 'login_required', 'The user is not signed in.')
      return { kind: 'sign-in', request }
    }
    const { user, session } = live
    // An operator may limit who signs in to a client (allowedUsers); anyone else is refused.
    if (request.client.allowedUsers !== null && !request.client.allowedUsers.includes(user.id)) {
      return this.#error(request, 'access_denied', 'This account may not sign in to this application.')
    }
    if (interaction.consent === 'deny') return this.#error(request, 'access_denied', 'The user denied the request.')
    if (interaction.consent === 'allow') {
      await this.#deps.consents.remember(user.id, request.client.id, request.scopes)
    } else if (!request.client.skipConsent && (request.prompt.has('consent') || (await this.#deps.consents.needed(user.id, request.client.id, request.scopes)))) {
      if (request.prompt.has('none')) return this.#error(request, 'consent_required', 'The user has not allowed this application yet.')
      return { kind: 'consent', request, user, scopes: this.describeScopes(request.scopes) }
    }
    return this.#issueCode(request, live.user, session)
  }

  /** The consent page's words for each scope: the API registry's description, or OpenID Connect's. */
  describeScopes(scopes: readonly string[]): ScopeDescription[] {
    // Who you are first (openid, profile, email), then the APIs, staying connected last.
    const rank = (name: string): number => (name === 'offline_access' ? 2 : name in OPENID_SCOPE_WORDS ? 0 : 1)
    const ordered = [...scopes].sort((a, b) => rank(a) - rank(b) || (rank(a) === 0 ? Object.keys(OPENID_SCOPE_WORDS).indexOf(a) - Object.keys(OPENID_SCOPE_WORDS).indexOf(b) : 0))
    return ordered.map((name) => {
      const registered = this.#deps.apis.apiOfScope(name)?.scopes.find((scope) => scope.name === name)
      return { name, description: registered?.description ?? OPENID_SCOPE_WORDS[name] ?? name }
    })
  }

  /** Where an error goes: the redirect URI with `error`, `error_description`, `state` and `iss` (RFC 6749 §4.1.2.1, RFC 9207). */
  errorLocation(error: AuthorizationRedirectError): string {
    return this.#location(error.redirectUri, { error: error.code, error_description: error.description, state: error.state })
  }

  /**
   * RFC 9126 §2: stores an authorization request pushed by an authenticated client and answers
   * its request_uri. The parameters are checked now, as the authorization endpoint would; an
   * error is thrown as it would be there (the route answers it as JSON, §2.3).
   */
  async push(client: Client, raw: RawParameters): Promise<{ requestUri: string; expiresIn: number }> {
    const parameters = new Map(withJoinedResources(raw))
    parameters.set('client_id', [client.id])
    await checkAuthorizationRequest(this.#deps, parameters, { fromPushedRequest: true })
    const now = this.#deps.clock.now()
    const secret = this.#deps.random.bytes(32).toString('base64url')
    const expiresIn = this.#options.pushedRequestTtlSeconds
    await this.#deps.pushedRequests.insertPushedRequest({
      digest: digestSecret(secret),
      clientId: client.id,
      parameters: Object.fromEntries([...parameters].map(([name, values]) => [name, values[0] ?? ''])),
      createdAt: now,
      expiresAt: now + expiresIn * 1000,
      usedAt: null,
    })
    return { requestUri: REQUEST_URI_PREFIX + secret, expiresIn }
  }

  async #issueCode(request: AuthorizationRequest, user: User, session: LiveSession['session']): Promise<AuthorizationStep> {
    // RFC 9126 §4: a pushed request yields one code; a second use (another tab) starts over.
    if (request.pushedRequest !== undefined && !(await this.#deps.pushedRequests.usePushedRequest(request.pushedRequest, this.#deps.clock.now()))) {
      return this.#error(request, 'invalid_request', 'This sign-in request was already used; start again.')
    }
    const now = this.#deps.clock.now()
    // RFC 6749 §10.10: 256 random bits; only the digest is stored (RFC 9700 §4.5.3).
    const code = this.#deps.random.bytes(32).toString('base64url')
    await this.#deps.codes.insertAuthorizationCode({
      digest: digestSecret(code),
      clientId: request.client.id,
      userId: user.id,
      redirectUri: request.redirectUri,
      scope: request.scopes.join(' '),
      audience: null,
      ...(request.resources.length > 0 ? { resources: request.resources } : {}),
      ...(request.dpopJkt !== undefined ? { dpopJkt: request.dpopJkt } : {}),
      codeChallenge: request.codeChallenge,
      nonce: request.nonce ?? null,
      sessionId: session.id,
      authTime: session.authTime,
      issuedAt: now,
      expiresAt: now + this.#options.codeTtlSeconds * 1000,
      usedAt: null,
      grantId: null,
    })
    return { kind: 'redirect', location: this.#location(request.redirectUri, { code, state: request.state }) }
  }

  #error(request: AuthorizationRequest, code: AuthorizeErrorCode, description: string): AuthorizationStep {
    return { kind: 'redirect', location: this.errorLocation(new AuthorizationRedirectError(code, description, request)) }
  }

  /** The redirect URI with the answer in its query (RFC 6749 §4.1.2), keeping the URI's own query; `iss` per RFC 9207 §2. */
  #location(redirectUri: string, answer: Record<string, string | undefined>): string {
    const url = new URL(redirectUri)
    for (const [name, value] of Object.entries(answer)) if (value !== undefined) url.searchParams.append(name, value)
    url.searchParams.append('iss', this.#deps.issuer)
    return url.toString()
  }
}
