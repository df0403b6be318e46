import cookie from '@fastify/cookie'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { AuthorizationPageError, AuthorizationRedirectError } from '../../../core/authorization/authorization-errors.js'
import type { AuthorizationRequest, RawParameters } from '../../../core/authorization/authorization-request.js'
import type { AuthorizationStep, Interaction } from '../../../core/authorization/authorizer.js'
import type { LiveSession } from '../../../core/authorization/sign-in-sessions.js'
import { OAuthError } from '../../../core/errors.js'
import { resolveSecret, type Gatehouse } from '../../../gatehouse.js'
import { originOf, readClientCredentials } from '../../client-auth.js'
import { NO_STORE_HEADERS, send, type ErrorShaper } from '../../dialects/dialect.js'
import { rfc6749 } from '../../dialects/rfc6749.js'
import { UNSUPPORTED_BODY, readParameters } from '../../parameters.js'
import { wireDescription } from '../../error-mapping.js'
import { PAGE_HEADERS, pageHeadersAllowingFormTargets } from '../console/html.js'
import { refuseWhenPasswordChecksFull } from '../../password-flood.js'
import { pageErrorAnswer } from '../page-errors.js'
import { OneTimeNonces, SessionKeys } from '../console/session.js'
import { registerLogout } from './logout.js'
import { SESSION_COOKIE } from './session-cookie.js'
import { registerDevicePages } from './device.js'
import { consentPage, hostedMessagePage, signInPage } from './pages.js'

export const AUTHORIZE_PATH = '/oauth/authorize'
export const PAR_PATH = '/oauth/par'
export const SIGN_IN_PATH = '/signin'
export const CONSENT_PATH = '/consent'
const SIGN_IN_FORM_COOKIE = 'gatehouse_signin'
const CREDENTIAL_PARAMETERS: ReadonlySet<string> = new Set(['client_secret', 'client_assertion', 'client_assertion_type'])
const SIGN_IN_FORM_TTL_MS = 3600 * 1000

/** Errors on the hosted pages are pages (a person is looking), never JSON or a stack trace. */
export const hostedShaper: ErrorShaper = {
  name: 'hosted-pages',
  formatError: (error) => pageErrorAnswer(error, hostedMessagePage),
}

/** A form field's one string value ('' when absent or not a string). */
const field = (body: unknown, name: string): string => {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined
  return typeof value === 'string' ? value : ''
}

/** Query or form parameters with every value kept, so repeats can be refused (RFC 6749 §3.1). */
function rawParameters(source: unknown): Map<string, string[]> {
  const parameters = new Map<string, string[]>()
  if (source === undefined || source === null) return parameters
  if (source === UNSUPPORTED_BODY || typeof source !== 'object') throw new AuthorizationPageError('invalid_request', 'The request must be a query string or a form post.')
  for (const [name, value] of Object.entries(source as Record<string, unknown>)) {
    const values = Array.isArray(value) ? value : [value]
    if (!values.every((item): item is string => typeof item === 'string')) throw new AuthorizationPageError('invalid_request', `The ${name.slice(0, 50)} parameter is malformed.`)
    parameters.set(name, values)
  }
  return parameters
}

/** The request as the forms carry it: one hidden field, a query string the server parses and checks again. */
function fromCarried(text: string): Map<string, string[]> {
  const parameters = new Map<string, string[]>()
  if (text.length > 16_384) throw new AuthorizationPageError('invalid_request', 'The sign-in request is too large.')
  for (const [name, value] of new URLSearchParams(text)) parameters.set(name, [...(parameters.get(name) ?? []), value])
  return parameters
}

const carried = (request: AuthorizationRequest): string => new URLSearchParams(request.carried).toString()

const routeSchema = (summary: string, description: string) => ({ tags: ['Sign-in (authorization code)'], summary, description, produces: ['text/html'] })

/**
 * The authorization endpoint (RFC 6749 §4.1, OpenID Connect Core §3.1.2) and the hosted pages a
 * person signs in and consents on, plus pushed authorization requests (RFC 9126). The decisions
 * are the core's (Authorizer); this file reads cookies and forms and renders pages.
 */
export async function registerHostedPages(app: FastifyInstance, gatehouse: Gatehouse, logger: Logger): Promise<void> {
  const keys = new SessionKeys(resolveSecret(gatehouse.config, logger), 'hosted sign-in pages v1')
  const usedForms = new OneTimeNonces()
  const { authorizer, signInSessions, clock } = gatehouse
  const publicTls = gatehouse.config.issuer.startsWith('https://')

  await app.register(async (scope) => {
    await scope.register(cookie)
    scope.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), shaper: route.config?.shaper ?? hostedShaper, requiresTls: true }
    })

    // Lax, not Strict: the application sends the browser here with a cross-site top-level GET,
    // which must carry the session for single sign-on. Secure whenever the public URL is https.
    const cookieOptions = (request: FastifyRequest, path = '/') => ({ path, httpOnly: true, sameSite: 'lax' as const, secure: publicTls || request.protocol === 'https' })
    const render = (reply: FastifyReply, status: number, body: string, formTargets: readonly string[] = []): FastifyReply =>
      reply.code(status).headers(formTargets.length > 0 ? pageHeadersAllowingFormTargets(formTargets) : PAGE_HEADERS).send(body)
    const consentCsrf = (live: LiveSession): string => keys.csrfToken(`consent.${live.session.digest}`)

    const signInForm = (request: FastifyRequest, reply: FastifyReply, status: number, authorization: AuthorizationRequest, extra: { error?: string; username?: string } = {}): FastifyReply => {
      const nonce = keys.newNonce()
      reply.setCookie(SIGN_IN_FORM_COOKIE, keys.sealNonce(nonce, clock.now() + SIGN_IN_FORM_TTL_MS), { ...cookieOptions(request, SIGN_IN_PATH), maxAge: SIGN_IN_FORM_TTL_MS / 1000 })
      const username = extra.username ?? authorization.loginHint
      return render(reply, status, signInPage({ csrf: keys.csrfToken(nonce), authorization: carried(authorization), clientName: authorization.client.name, ...(extra.error ? { error: extra.error } : {}), ...(username !== undefined ? { username } : {}) }), [authorization.redirectUri])
    }

    const answer = (request: FastifyRequest, reply: FastifyReply, step: AuthorizationStep, live?: LiveSession): FastifyReply => {
      if (step.kind === 'redirect') return reply.code(303).header('location', step.location).header('cache-control', 'no-store').send()
      if (step.kind === 'sign-in') return signInForm(request, reply, 200, step.request)
      if (!live) throw new Error('consent step without a session')
      return render(reply, 200, consentPage({ csrf: consentCsrf(live), authorization: carried(step.request), clientName: step.request.client.name, username: step.user.username, scopes: step.scopes }), [step.request.redirectUri])
    }

    /** Runs a step of the flow; the request's own errors become the page or redirect RFC 6749 §4.1.2.1 asks for. */
    const flow = async (reply: FastifyReply, run: () => Promise<FastifyReply>): Promise<FastifyReply> => {
      try {
        return await run()
      } catch (error) {
        if (error instanceof AuthorizationPageError) return render(reply, 400, hostedMessagePage({ title: 'This sign-in link is not valid', message: error.description }))
        if (error instanceof AuthorizationRedirectError) return reply.code(303).header('location', authorizer.errorLocation(error)).header('cache-control', 'no-store').send()
        throw error
      }
    }

    const resume = (request: FastifyRequest): Promise<LiveSession | undefined> => signInSessions.resume(request.cookies[SESSION_COOKIE])

    const authorize = async (request: FastifyRequest, reply: FastifyReply, source: unknown): Promise<FastifyReply> =>
      flow(reply, async () => {
        const authorization = await authorizer.check(rawParameters(source))
        const live = await resume(request)
        return answer(request, reply, await authorizer.decide(authorization, live), live)
      })

    // The IdentityServer dialect's /connect/authorize is the same endpoint under Duende's name.
    const identityserver = gatehouse.config.dialects.identityserver
    const authorizePaths = identityserver.enabled ? [AUTHORIZE_PATH, identityserver.paths.authorize] : [AUTHORIZE_PATH]
    for (const path of new Set(authorizePaths)) {
      scope.get(path, { schema: routeSchema('Authorization endpoint', 'RFC 6749 §4.1.1 / OpenID Connect Core §3.1.2.1: response_type=code, client_id, redirect_uri, code_challenge (S256), state, scope, nonce, prompt, max_age, login_hint, or client_id + request_uri (RFC 9126). Answers a sign-in or consent page, or 303 to the redirect URI with code, state and iss.') }, async (request, reply) => authorize(request, reply, request.query))
      scope.post(path, { schema: routeSchema('Authorization endpoint (form post)', 'OpenID Connect Core §3.1.2.1: the same parameters as a form post.') }, async (request, reply) => authorize(request, reply, request.body))
    }

    scope.post(SIGN_IN_PATH, { schema: routeSchema('Sign in', 'Form post of the sign-in page: username, password, _csrf and the authorization request. Starts the sign-in session (cookie gatehouse_session) and continues the authorization.'), onRequest: refuseWhenPasswordChecksFull(gatehouse.guard) }, async (request, reply) =>
      flow(reply, async () => {
        const authorization = await authorizer.check(fromCarried(field(request.body, 'authorization')))
        const now = clock.now()
        const form = keys.openNonce(request.cookies[SIGN_IN_FORM_COOKIE], now)
        // One attempt per form (OneTimeNonces): one page cannot carry a flood of password guesses.
        if (!form || !keys.checkCsrf(form.nonce, field(request.body, '_csrf')) || !usedForms.consume(form.nonce, form.expiresAt, now)) {
          return signInForm(request, reply, 403, authorization, { error: 'The sign-in form expired. Please try again.' })
        }
        const username = field(request.body, 'username')
        const signedIn = await signInSessions.signInWithPassword({ username, password: field(request.body, 'password'), source: request.ip, via: 'sign-in page', clientId: authorization.client.id, previousCookie: request.cookies[SESSION_COOKIE] })
        if (!signedIn.ok) {
          if (signedIn.retryAfter !== undefined) reply.header('retry-after', String(signedIn.retryAfter))
          const error = signedIn.status === 401 ? 'Invalid email or password.' : 'Too many sign-in attempts right now. Please wait a moment and try again.'
          return signInForm(request, reply, signedIn.status, authorization, { error, username })
        }
        const { user, session, cookie: secret } = signedIn
        reply.setCookie(SESSION_COOKIE, secret, { ...cookieOptions(request), maxAge: Math.floor(signInSessions.lifetimes.absoluteMs / 1000) })
        reply.clearCookie(SIGN_IN_FORM_COOKIE, cookieOptions(request, SIGN_IN_PATH))
        const live = { session, user }
        gatehouse.audit.note({ actor: `user:${user.id}`, action: 'user.signed_in', target: `user:${user.id}`, ip: request.ip, details: { via: 'sign-in page', client_id: authorization.client.id } })
        return answer(request, reply, await authorizer.decide(authorization, live, { signedInNow: true }), live)
      }),
    )

    scope.post(CONSENT_PATH, { schema: routeSchema('Allow or deny', 'Form post of the consent page: decision=allow|deny, _csrf and the authorization request. Answers 303 to the redirect URI.') }, async (request, reply) =>
      flow(reply, async () => {
        const authorization = await authorizer.check(fromCarried(field(request.body, 'authorization')))
        const live = await resume(request)
        // Signed out (or the session ended) while the page was open: sign in again.
        if (!live) return answer(request, reply, await authorizer.decide(authorization, undefined))
        if (!keys.checkCsrf(`consent.${live.session.digest}`, field(request.body, '_csrf'))) {
          return render(reply, 403, hostedMessagePage({ title: 'Request refused', message: 'The page expired or did not come from this server. Go back to the application and start again.' }))
        }
        const decision = field(request.body, 'decision')
        const interaction: Interaction = { consent: decision === 'allow' ? 'allow' : 'deny' }
        const step = await authorizer.decide(authorization, live, interaction)
        gatehouse.audit.note({ actor: `user:${live.user.id}`, action: interaction.consent === 'allow' ? 'consent.granted' : 'consent.denied', target: `client:${authorization.client.id}`, ip: request.ip, details: { scopes: authorization.scopes, via: 'consent page' } })
        return answer(request, reply, step, live)
      }),
    )

    registerLogout(scope, { gatehouse, keys, sessionCookie: SESSION_COOKIE, cookieOptions, render }, identityserver.enabled ? [identityserver.paths.endSession] : [])
    registerDevicePages(scope, { gatehouse, keys, usedForms, sessionCookie: SESSION_COOKIE, cookieOptions, render })
  })

  // RFC 9126 §2: a client pushes its request (authenticated as at the token endpoint); JSON errors as the token endpoint's.
  app.post(PAR_PATH, { config: { shaper: rfc6749, requiresTls: true } }, async (request, reply) => {
    const form = readParameters(request.body)
    const client = await gatehouse.engine.authenticateClient(readClientCredentials(request.headers.authorization, form), originOf(request))
    // Client credentials authenticate the push; they are not part of the stored request.
    const parameters: RawParameters = new Map([...form].filter(([name]) => !CREDENTIAL_PARAMETERS.has(name)).map(([name, value]) => [name, [value]]))
    if (form.get('client_id') !== undefined && form.get('client_id') !== client.id) throw new OAuthError('invalid_request', { description: 'client_id does not match the authenticated client.' })
    try {
      const pushed = await authorizer.push(client, parameters)
      return send(reply, { status: 201, headers: NO_STORE_HEADERS, body: { request_uri: pushed.requestUri, expires_in: pushed.expiresIn } })
    } catch (error) {
      if (error instanceof AuthorizationPageError || error instanceof AuthorizationRedirectError) {
        return send(reply, { status: 400, headers: NO_STORE_HEADERS, body: { error: error.code === 'invalid_client' ? 'invalid_request' : error.code, error_description: wireDescription(error.description) } })
      }
      throw error
    }
  })
}
