import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { DeviceAuthorizationAnswer, PendingDevice } from '../../../core/authorization/device-flow.js'
import type { LiveSession } from '../../../core/authorization/sign-in-sessions.js'
import { STANDARD_POLICY, type DialectPolicy } from '../../../core/types.js'
import type { Gatehouse } from '../../../gatehouse.js'
import { originOf, readClientCredentials } from '../../client-auth.js'
import { NO_STORE_HEADERS, send, type ErrorShaper } from '../../dialects/dialect.js'
import { IDENTITYSERVER_HEADERS, IDENTITYSERVER_POLICY, identityserver, readFormParameters } from '../../dialects/identityserver.js'
import { rfc6749 } from '../../dialects/rfc6749.js'
import { readParameters, type Parameters } from '../../parameters.js'
import { refuseWhenPasswordChecksFull } from '../../password-flood.js'
import type { OneTimeNonces, SessionKeys } from '../console/session.js'
import { DEVICE_DECISION_PATH, DEVICE_DONE_PATH, DEVICE_PATH, DEVICE_SIGN_IN_PATH, deviceCodePage, deviceConfirmPage, deviceDonePage, deviceSignInPage } from './device-pages.js'
import { hostedMessagePage } from './pages.js'

/** RFC 8628 §3.1: where a device (or a CLI) asks for a device code and a user code. */
export const DEVICE_AUTHORIZATION_PATH = '/oauth/device_authorization'
/** The code-entry form's nonce (CSRF), for every page under /device. */
const DEVICE_FORM_COOKIE = 'gatehouse_device'
/** The device sign-in form's one-time nonce (one password attempt per form, as on /signin). */
const DEVICE_SIGN_IN_COOKIE = 'gatehouse_device_signin'
const FORM_TTL_MS = 3600 * 1000

type CookieOptions = (request: FastifyRequest, path?: string) => { path: string; httpOnly: boolean; sameSite: 'lax'; secure: boolean }

export interface DevicePagesDeps {
  gatehouse: Gatehouse
  keys: SessionKeys
  /** The hosted pages' one-time form nonces (sign-in forms). */
  usedForms: OneTimeNonces
  sessionCookie: string
  cookieOptions: CookieOptions
  render(reply: FastifyReply, status: number, body: string): FastifyReply
}

/** A form field's one string value ('' when absent, repeated or not a string). */
const field = (body: unknown, name: string): string => {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined
  return typeof value === 'string' ? value : ''
}

/** RFC 8628 §3.2 on the wire. */
const wireAnswer = (answer: DeviceAuthorizationAnswer): Record<string, unknown> => ({
  device_code: answer.deviceCode,
  user_code: answer.userCode,
  verification_uri: answer.verificationUri,
  verification_uri_complete: answer.verificationUriComplete,
  expires_in: answer.expiresIn,
  interval: answer.interval,
})

const pageSchema = (summary: string, description: string) => ({ tags: ['Sign-in (device)'], summary, description, produces: ['text/html'] })

const minutes = (seconds: number): string => {
  const count = Math.max(1, Math.ceil(seconds / 60))
  return count === 1 ? 'a minute' : `${count} minutes`
}

/**
 * The device authorization grant's HTTP side (RFC 8628): the device authorization endpoint
 * (standard and IdentityServer's), and the verification pages a person types the user code on,
 * signs in on and allows or denies the device on. The decisions are the core's (DeviceFlow);
 * this file reads forms and cookies and renders pages. Registered inside the hosted pages'
 * scope (cookies, the hosted error pages, TLS), like the logout route.
 */
export function registerDevicePages(scope: FastifyInstance, deps: DevicePagesDeps): void {
  const { gatehouse, keys, render, cookieOptions } = deps
  const { deviceFlow, signInSessions, clock } = gatehouse

  // ── the device authorization endpoint (RFC 8628 §3.1–3.2) ────────────────
  const authorizeDevice = (read: (request: FastifyRequest) => Parameters, policy: DialectPolicy, headers: Readonly<Record<string, string>>) => async (request: FastifyRequest, reply: FastifyReply) => {
    const form = read(request)
    // Authenticated as at the token endpoint; a public client names itself with client_id only.
    const client = await gatehouse.engine.authenticateClient(readClientCredentials(request.headers.authorization, form), originOf(request))
    const answer = await deviceFlow.start(client, form.get('scope'), policy)
    return send(reply, { status: 200, headers: { ...headers }, body: wireAnswer(answer) })
  }
  const jsonRoute = (shaper: ErrorShaper) => ({ config: { shaper } })
  scope.post(DEVICE_AUTHORIZATION_PATH, jsonRoute(rfc6749), authorizeDevice((request) => readParameters(request.body), STANDARD_POLICY, NO_STORE_HEADERS))
  const identityServer = gatehouse.config.dialects.identityserver
  if (identityServer.enabled) scope.post(identityServer.paths.deviceAuthorization, jsonRoute(identityserver), authorizeDevice(readFormParameters, IDENTITYSERVER_POLICY, IDENTITYSERVER_HEADERS))

  // ── the verification pages (RFC 8628 §3.3) ───────────────────────────────
  const resume = (request: FastifyRequest): Promise<LiveSession | undefined> => signInSessions.resume(request.cookies[deps.sessionCookie])

  /** The code form's nonce: the cookie's while it has a while to run (several tabs share it), else a new one. */
  const formNonce = (request: FastifyRequest, reply: FastifyReply): string => {
    const now = clock.now()
    const current = keys.openNonce(request.cookies[DEVICE_FORM_COOKIE], now)
    if (current && current.expiresAt - now > FORM_TTL_MS / 2) return current.nonce
    const nonce = keys.newNonce()
    reply.setCookie(DEVICE_FORM_COOKIE, keys.sealNonce(nonce, now + FORM_TTL_MS), { ...cookieOptions(request, DEVICE_PATH), maxAge: FORM_TTL_MS / 1000 })
    return nonce
  }
  const codeCsrfOk = (request: FastifyRequest): boolean => {
    const current = keys.openNonce(request.cookies[DEVICE_FORM_COOKIE], clock.now())
    return current !== undefined && keys.checkCsrf(`device-code.${current.nonce}`, field(request.body, '_csrf'))
  }
  const codeForm = (request: FastifyRequest, reply: FastifyReply, status: number, extra: { userCode?: string; error?: string } = {}): FastifyReply => {
    const csrf = keys.csrfToken(`device-code.${formNonce(request, reply)}`)
    const userCode = extra.userCode?.slice(0, 20)
    return render(reply, status, deviceCodePage({ csrf, ...(userCode ? { userCode } : {}), ...(extra.error ? { error: extra.error } : {}) }))
  }
  /** A post whose form or session did not hold up: back to the code form, the code kept. */
  const startOver = (request: FastifyRequest, reply: FastifyReply, message: string): FastifyReply => codeForm(request, reply, 403, { userCode: field(request.body, 'user_code'), error: message })

  const signInForm = (request: FastifyRequest, reply: FastifyReply, status: number, device: PendingDevice, extra: { error?: string; username?: string } = {}): FastifyReply => {
    const nonce = keys.newNonce()
    reply.setCookie(DEVICE_SIGN_IN_COOKIE, keys.sealNonce(nonce, clock.now() + FORM_TTL_MS), { ...cookieOptions(request, DEVICE_SIGN_IN_PATH), maxAge: FORM_TTL_MS / 1000 })
    return render(reply, status, deviceSignInPage({ csrf: keys.csrfToken(`device-signin.${nonce}`), userCode: device.userCode, clientName: device.client.name, ...extra }))
  }
  const confirmPage = (reply: FastifyReply, live: LiveSession, device: PendingDevice): FastifyReply =>
    render(reply, 200, deviceConfirmPage({ csrf: keys.csrfToken(`device.${live.session.digest}`), userCode: device.userCode, clientName: device.client.name, username: live.user.username, scopes: device.scopes }))

  /** Looks the typed code up (throttled: RFC 8628 §5.1) and goes on with the pending authorization, or says why not. */
  const withDevice = async (request: FastifyRequest, reply: FastifyReply, next: (device: PendingDevice) => Promise<FastifyReply>): Promise<FastifyReply> => {
    const typed = field(request.body, 'user_code')
    const lookup = await deviceFlow.findByUserCode(typed, request.ip)
    switch (lookup.kind) {
      case 'found':
        return next(lookup.device)
      case 'throttled':
        reply.header('retry-after', String(lookup.retryAfter))
        return codeForm(request, reply, 429, { userCode: typed, error: `Too many wrong codes were entered from your network. Please wait ${minutes(lookup.retryAfter)} and try again.` })
      case 'malformed':
        return codeForm(request, reply, 400, { userCode: typed, error: 'Enter the 8-letter code your device shows, like BCDF-GHJK.' })
      case 'unknown':
        return codeForm(request, reply, 400, { userCode: typed, error: 'That code is not valid. Check it and try again.' })
      case 'expired':
        return codeForm(request, reply, 400, { userCode: typed, error: 'That code has expired. Start again on your device to get a new one.' })
      case 'used':
        return codeForm(request, reply, 400, { userCode: typed, error: 'That code has already been used. Start again on your device if it is still waiting.' })
    }
  }

  scope.get(DEVICE_PATH, { schema: pageSchema('Device verification page', 'RFC 8628 §3.3: the form a person types the user code into; ?user_code= (verification_uri_complete) fills it in. Nothing is looked up until the form is posted.') }, async (request, reply) => {
    const given = (request.query as Record<string, unknown> | undefined)?.user_code
    return codeForm(request, reply, 200, typeof given === 'string' ? { userCode: given } : {})
  })

  scope.post(DEVICE_PATH, { schema: pageSchema('Enter a user code', 'Form post of the verification page: user_code and _csrf. Answers the sign-in form, or (signed in) the confirmation page; 400 for a wrong, expired or used code, 429 with Retry-After once too many wrong codes came from the address (or from everywhere).') }, async (request, reply) => {
    if (!codeCsrfOk(request)) return startOver(request, reply, 'The form expired. Please enter the code again.')
    return withDevice(request, reply, async (device) => {
      const live = await resume(request)
      return live ? confirmPage(reply, live, device) : signInForm(request, reply, 200, device)
    })
  })

  // Refused before the body is read while this address's password checks are all queued, as /signin.
  scope.post(DEVICE_SIGN_IN_PATH, { schema: pageSchema('Sign in for a device', 'Form post of the device sign-in page: username, password, user_code, _csrf (one attempt per form). Starts the sign-in session (cookie gatehouse_session) and answers the confirmation page.'), onRequest: refuseWhenPasswordChecksFull(gatehouse.guard) }, async (request, reply) => {
    const now = clock.now()
    const form = keys.openNonce(request.cookies[DEVICE_SIGN_IN_COOKIE], now)
    // One attempt per form (OneTimeNonces): one page cannot carry a flood of password guesses.
    if (!form || !keys.checkCsrf(`device-signin.${form.nonce}`, field(request.body, '_csrf')) || !deps.usedForms.consume(form.nonce, form.expiresAt, now)) {
      return startOver(request, reply, 'The sign-in form expired. Please enter the code again.')
    }
    return withDevice(request, reply, async (device) => {
      const username = field(request.body, 'username')
      const signedIn = await signInSessions.signInWithPassword({ username, password: field(request.body, 'password'), source: request.ip, via: 'device sign-in page', clientId: device.client.id, previousCookie: request.cookies[deps.sessionCookie] })
      if (!signedIn.ok) {
        if (signedIn.retryAfter !== undefined) reply.header('retry-after', String(signedIn.retryAfter))
        const error = signedIn.status === 401 ? 'Invalid email or password.' : 'Too many sign-in attempts right now. Please wait a moment and try again.'
        return signInForm(request, reply, signedIn.status, device, { error, username })
      }
      const { user, session, cookie: secret } = signedIn
      reply.setCookie(deps.sessionCookie, secret, { ...cookieOptions(request), maxAge: Math.floor(signInSessions.lifetimes.absoluteMs / 1000) })
      reply.clearCookie(DEVICE_SIGN_IN_COOKIE, cookieOptions(request, DEVICE_SIGN_IN_PATH))
      return confirmPage(reply, { session, user }, device)
    })
  })

  scope.post(DEVICE_DECISION_PATH, { schema: pageSchema('Allow or deny a device', 'Form post of the confirmation page: decision=allow|deny, user_code, _csrf (bound to the sign-in session). Answers 303 to /device/done.') }, async (request, reply) => {
    const live = await resume(request)
    // Signed out (or the session ended) while the page was open, or a forged post: start over.
    if (!live) return startOver(request, reply, 'You were signed out. Please enter the code again.')
    if (!keys.checkCsrf(`device.${live.session.digest}`, field(request.body, '_csrf'))) return startOver(request, reply, 'The page expired or did not come from this server. Please enter the code again.')
    return withDevice(request, reply, async (device) => {
      const outcome = await deviceFlow.decide(device, live, field(request.body, 'decision') === 'allow' ? 'allow' : 'deny')
      if (outcome === 'gone') return codeForm(request, reply, 400, { userCode: device.userCode, error: 'That code has expired or was already used. Start again on your device.' })
      if (outcome === 'not-allowed') return render(reply, 403, hostedMessagePage({ title: 'Not allowed', message: `This account may not sign in to ${device.client.name}. The device was told the request was denied.` }))
      gatehouse.audit.note({ actor: `user:${live.user.id}`, action: outcome === 'approved' ? 'device.approved' : 'device.denied', target: `client:${device.client.id}`, ip: request.ip, details: { via: 'device page' } })
      return reply.code(303).header('location', `${DEVICE_DONE_PATH}?result=${outcome}`).header('cache-control', 'no-store').send()
    })
  })

  scope.get(DEVICE_DONE_PATH, { schema: pageSchema('Device sign-in done', 'Where the confirmation page goes: ?result=approved ("You can return to your device") or ?result=denied.') }, async (request, reply) => {
    const result = (request.query as Record<string, unknown> | undefined)?.result
    if (result !== 'approved' && result !== 'denied') return reply.code(303).header('location', DEVICE_PATH).header('cache-control', 'no-store').send()
    return render(reply, 200, deviceDonePage(result))
  })
}
