import cookie from '@fastify/cookie'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { CONSOLE_APP_TYPES, ConsoleApps, ConsoleError, type ConsoleAppType, type Credentials } from '../../../core/admin/console-apps.js'
import { ClientValidationError } from '../../../core/admin/client-admin.js'
import { ApiKeyValidationError } from '../../../core/admin/api-key-admin.js'
import { JwksError, parseJwksText } from '../../../core/credentials/client-jwks.js'
import { OAuthError } from '../../../core/errors.js'
import type { User } from '../../../core/types.js'
import { resolveSecret, type Gatehouse } from '../../../gatehouse.js'
import type { ErrorShaper } from '../../dialects/dialect.js'
import { PAGE_HEADERS } from './html.js'
import { refuseWhenPasswordChecksFull } from '../../password-flood.js'
import { pageErrorAnswer } from '../page-errors.js'
import { SESSION_COOKIE as HOSTED_SESSION_COOKIE } from '../hosted/session-cookie.js'
import { appPage, connectedAppsPage, credentialsPage, editAppPage, editFormOf, type EditAppForm, shownAlreadyPage, dashboardPage, type ConnectedApp, loginPage, messagePage, newAppPage, type NewAppForm, type TokenEndpoints } from './pages.js'
import { registerOperatorRoutes } from './operator.js'
import { CREDENTIALS_COOKIE, CREDENTIALS_TTL_MS, OneTimeCredentials, credentialsPath } from './one-time-credentials.js'
import { LOGIN_COOKIE, LOGIN_FORM_TTL_MS, OneTimeNonces, SESSION_COOKIE, SESSION_TTL_MS, SessionKeys, type Session } from './session.js'

export const CONSOLE_PATH = '/console'

/** Errors on console routes are pages, not JSON (a rate limit is a 429 page with Retry-After). */
const consoleShaper: ErrorShaper = {
  name: 'console',
  formatError: (error) => pageErrorAnswer(error, messagePage),
}

const text = (body: unknown, name: string): string => {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined
  return typeof value === 'string' ? value : ''
}

/** A form field that may repeat (checkboxes): every string value of it. */
const texts = (body: unknown, name: string): string[] => {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined
  const values = Array.isArray(value) ? value : [value]
  return values.filter((item): item is string => typeof item === 'string')
}

/** The create form's older field (the seed's "Grant Type"), still accepted from pages and scripts that post it. */
const LEGACY_GRANTS: Readonly<Record<string, ConsoleAppType>> = { client_credentials: 'machine', password: 'password', api_key: 'api_key' }

const routeSchema = (summary: string, description?: string) => ({ tags: ['Console'], summary, ...(description ? { description } : {}), produces: ['text/html'] })

/**
 * The developer console: server-rendered pages and plain form posts (they work without
 * JavaScript; /assets/console.js adds copy buttons). Sessions are signed HttpOnly cookies,
 * SameSite=Strict, Secure over TLS; every POST carries a synchroniser CSRF token.
 */
export async function registerConsole(app: FastifyInstance, gatehouse: Gatehouse, logger: Logger): Promise<void> {
  const secret = resolveSecret(gatehouse.config, logger)
  const keys = new SessionKeys(secret)
  const oneTime = new OneTimeCredentials(secret, gatehouse.store)
  const usedNonces = new OneTimeNonces()
  const apps = new ConsoleApps({ store: gatehouse.store, clients: gatehouse.clients, apiKeys: gatehouse.apiKeys, apis: gatehouse.apis, audit: gatehouse.audit, activity: gatehouse.activity, clock: gatehouse.clock, guard: gatehouse.guard })
  const { dialects } = gatehouse.config
  const endpoints: TokenEndpoints = {
    base: gatehouse.config.issuer,
    standardToken: '/oauth/token',
    identityServerToken: dialects.identityserver.enabled ? dialects.identityserver.paths.token : null,
    canaryRequestTokens: dialects.canary.enabled ? dialects.canary.paths.requestTokens : null,
  }
  const maxTtl = gatehouse.config.maxAccessTokenTtl

  await app.register(async (scope) => {
    await scope.register(cookie)
    scope.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), shaper: consoleShaper }
    })

    // Secure when this connection is TLS, or when the public URL (issuer) is https behind a TLS-terminating proxy.
    const publicTls = gatehouse.config.issuer.startsWith('https://')
    const cookieOptions = (request: FastifyRequest) => ({ path: CONSOLE_PATH, httpOnly: true, sameSite: 'strict' as const, secure: publicTls || request.protocol === 'https' })
    const render = (reply: FastifyReply, status: number, body: string): FastifyReply => reply.code(status).headers(PAGE_HEADERS).send(body)
    const redirect = (reply: FastifyReply, to: string): FastifyReply => reply.code(303).header('location', to).header('cache-control', 'no-store').send()
    const actor = (user: User, request: FastifyRequest) => ({ userId: user.id, ip: request.ip })

    /**
     * Post/Redirect/Get: new credentials go to their page in a sealed one-time cookie (see
     * OneTimeCredentials), so reloading that page neither creates another application nor rotates again.
     */
    const showOnce = (request: FastifyRequest, reply: FastifyReply, session: Session, credentials: Credentials, rotated: boolean): FastifyReply => {
      const path = credentialsPath(credentials.clientId)
      reply.setCookie(CREDENTIALS_COOKIE, oneTime.seal(session.nonce, credentials, rotated, gatehouse.clock.now()), { ...cookieOptions(request), path, maxAge: CREDENTIALS_TTL_MS / 1000 })
      return redirect(reply, path)
    }

    /** The signed-in user, or undefined after answering with a redirect to the login page. */
    const signedIn = async (request: FastifyRequest, reply: FastifyReply): Promise<{ user: User; session: Session; csrf: string } | undefined> => {
      const session = keys.open(request.cookies[SESSION_COOKIE], gatehouse.clock.now())
      const user = session ? await apps.currentUser(session.userId) : undefined
      // Signed out, the password changed since sign-in, or its sign-in session ended: the session is over.
      if (!session || !user || !keys.sameCredential(session, user.passwordHash) || (await apps.signedOut(session.nonce)) || !(await gatehouse.signInSessions.resume(session.signIn))) {
        redirect(reply, `${CONSOLE_PATH}/login`)
        return undefined
      }
      return { user, session, csrf: keys.csrfToken(session.nonce) }
    }

    /** Every state-changing POST: a valid session and its CSRF token, or 403. */
    const signedInPost = async (request: FastifyRequest, reply: FastifyReply): Promise<{ user: User; session: Session; csrf: string } | undefined> => {
      const current = await signedIn(request, reply)
      if (!current) return undefined
      if (!keys.checkCsrf(current.session.nonce, text(request.body, '_csrf'))) {
        render(reply, 403, messagePage({ title: 'Request refused', message: 'The form expired or did not come from this console. Go back, reload the page and try again.' }))
        return undefined
      }
      return current
    }

    const loginForm = (request: FastifyRequest, reply: FastifyReply, status: number, extra: { error?: string; username?: string } = {}): FastifyReply => {
      const nonce = keys.newNonce()
      reply.setCookie(LOGIN_COOKIE, keys.sealNonce(nonce, gatehouse.clock.now() + LOGIN_FORM_TTL_MS), { ...cookieOptions(request), maxAge: LOGIN_FORM_TTL_MS / 1000 })
      return render(reply, status, loginPage({ csrf: keys.csrfToken(nonce), ...extra }))
    }

    scope.get(`${CONSOLE_PATH}/login`, { schema: routeSchema('Sign-in page') }, async (request, reply) => loginForm(request, reply, 200))

    scope.post(`${CONSOLE_PATH}/login`, { schema: routeSchema('Sign in', 'Form post: username, password, _csrf. Sets the session cookie and redirects to /console.'), onRequest: refuseWhenPasswordChecksFull(gatehouse.guard) }, async (request, reply) => {
      const now = gatehouse.clock.now()
      const form = keys.openNonce(request.cookies[LOGIN_COOKIE], now)
      // One attempt per form: a reused nonce is an expired form (see OneTimeNonces).
      if (!form || !keys.checkCsrf(form.nonce, text(request.body, '_csrf')) || !usedNonces.consume(form.nonce, form.expiresAt, now)) {
        return loginForm(request, reply, 403, { error: 'The sign-in form expired. Please try again.' })
      }
      const username = text(request.body, 'username')
      let user: User | undefined
      try {
        user = await apps.signIn(username, text(request.body, 'password'), request.ip)
      } catch (error) {
        // Too many password checks waiting (PasswordHashQueue): 503 with Retry-After, as the token endpoint answers.
        if (!(error instanceof OAuthError) || error.code !== 'temporarily_unavailable') throw error
        reply.header('retry-after', String(error.retryAfter ?? 1))
        return loginForm(request, reply, 503, { error: 'Too many sign-ins right now. Please try again in a moment.', username })
      }
      if (!user) return loginForm(request, reply, 401, { error: 'Invalid username or password.', username })
      // The console session rides on a server-side sign-in session, which also signs the browser
      // in to the hosted pages (single sign-on with the applications the user uses).
      const signIn = await gatehouse.signInSessions.start(user)
      const session: Session = { userId: user.id, expiresAt: gatehouse.clock.now() + SESSION_TTL_MS, nonce: keys.newNonce(), credential: keys.credentialFingerprint(user.id, user.passwordHash), signIn: signIn.cookie }
      reply.setCookie(SESSION_COOKIE, keys.seal(session), { ...cookieOptions(request), maxAge: SESSION_TTL_MS / 1000 })
      reply.setCookie(HOSTED_SESSION_COOKIE, signIn.cookie, { path: '/', httpOnly: true, sameSite: 'lax', secure: publicTls || request.protocol === 'https', maxAge: Math.floor(gatehouse.signInSessions.lifetimes.absoluteMs / 1000) })
      reply.clearCookie(LOGIN_COOKIE, cookieOptions(request))
      return redirect(reply, CONSOLE_PATH)
    })

    scope.post(`${CONSOLE_PATH}/logout`, { schema: routeSchema('Sign out') }, async (request, reply) => {
      const current = await signedInPost(request, reply)
      if (!current) return reply
      // The cookie is signed, not stored: a copy of it would outlive the browser's deletion.
      await apps.signOut(current.session.nonce, current.session.expiresAt)
      await gatehouse.signInSessions.endByCookie(current.session.signIn)
      reply.clearCookie(SESSION_COOKIE, cookieOptions(request))
      reply.clearCookie(HOSTED_SESSION_COOKIE, { path: '/' })
      return redirect(reply, `${CONSOLE_PATH}/login`)
    })

    registerOperatorRoutes(scope, { gatehouse, signedIn, signedInPost, render, redirect, routeSchema })

    scope.get(`${CONSOLE_PATH}/connected`, { schema: routeSchema('Connected apps', 'The applications the signed-in user allowed to act for them, with what they may do.') }, async (request, reply) => {
      const current = await signedIn(request, reply)
      if (!current) return reply
      const notice = (request.query as Record<string, unknown>).revoked === '1' ? 'Access removed: the application\'s tokens stopped working.' : undefined
      return render(reply, 200, connectedAppsPage({ username: current.user.username, csrf: current.csrf, apps: await connectedApps(current.user.id), ...(notice ? { notice } : {}) }))
    })

    scope.post<{ Params: { clientId: string } }>(`${CONSOLE_PATH}/connected/:clientId/revoke`, { schema: { ...routeSchema('Remove an application\'s access', 'Forgets the consent and ends the grants the application holds for the user: its refresh and access tokens stop at once.'), params: { type: 'object', properties: { clientId: { type: 'string' } }, required: ['clientId'] } } }, async (request, reply) => {
      const current = await signedInPost(request, reply)
      if (!current) return reply
      await gatehouse.consents.revoke(current.user.id, request.params.clientId)
      await gatehouse.audit.record({ actor: `user:${current.user.id}`, action: 'consent.revoked', target: `client:${request.params.clientId}`, ip: request.ip, details: { via: 'console' } })
      return redirect(reply, `${CONSOLE_PATH}/connected?revoked=1`)
    })

    scope.post(`${CONSOLE_PATH}/sign-out-everywhere`, { schema: routeSchema('Sign out everywhere', 'Ends every sign-in session of the user, on every browser and instance (the console\'s included); applications keep the access the user gave them.') }, async (request, reply) => {
      const current = await signedInPost(request, reply)
      if (!current) return reply
      const ended = await gatehouse.signInSessions.endForUser(current.user.id)
      await gatehouse.audit.record({ actor: `user:${current.user.id}`, action: 'user.signed_out_everywhere', target: `user:${current.user.id}`, ip: request.ip, details: { sessions: ended, via: 'console' } })
      reply.clearCookie(SESSION_COOKIE, cookieOptions(request))
      reply.clearCookie(HOSTED_SESSION_COOKIE, { path: '/' })
      return redirect(reply, `${CONSOLE_PATH}/login`)
    })

    /** The user's consents with their clients' names (a client deleted since is left out). */
    const connectedApps = async (userId: string): Promise<ConnectedApp[]> => {
      const consents = await gatehouse.consents.list(userId)
      const rows = await Promise.all(consents.map(async (consent) => ({ consent, client: await gatehouse.clients.get(consent.clientId) })))
      return rows.flatMap(({ consent, client }) => (client ? [{ clientId: client.id, name: client.name, scopes: gatehouse.authorizer.describeScopes(consent.scope === '' ? [] : consent.scope.split(' ')), since: consent.createdAt }] : []))
    }

    scope.get(CONSOLE_PATH, { schema: routeSchema('Your applications') }, async (request, reply) => {
      const current = await signedIn(request, reply)
      if (!current) return reply
      const operator = (await gatehouse.store.getOperator('user', current.user.id)) !== undefined
      return render(reply, 200, dashboardPage({ username: current.user.username, csrf: current.csrf, apps: await apps.list(current.user.id), operator, ...(typeof (request.query as Record<string, unknown>).deleted === 'string' ? { notice: 'Application deleted.' } : {}) }))
    })

    const emptyForm: NewAppForm = { name: '', type: 'machine', redirectUris: '', scopes: '', tokenFormat: 'jwt', accessTokenTtl: String(Math.min(3600, maxTtl)), ticked: [], clientAuth: 'client_secret', jwks: '' }

    scope.get(`${CONSOLE_PATH}/apps/new`, { schema: routeSchema('Create-application form') }, async (request, reply) => {
      const current = await signedIn(request, reply)
      if (!current) return reply
      return render(reply, 200, newAppPage({ username: current.user.username, csrf: current.csrf, form: emptyForm, maxTtl, choices: await apps.scopeChoices() }))
    })

    scope.post(
      `${CONSOLE_PATH}/apps`,
      {
        schema: routeSchema(
          'Create an application',
          'Form post: name, app_type (web, spa, native, device, machine, password or api_key; or the older grant field: client_credentials, password or api_key), redirect_uris (one per line; web, spa and native), client_auth (machine: client_secret or private_key_jwt) and jwks (the public JWK or JWK Set, for private_key_jwt), scope (repeatable checkboxes) and scopes (space-separated), token_format, access_token_ttl, _csrf. Answers 303 to /console/apps/{id}/credentials, which shows the credentials once (a public or private key JWT application has no secret).',
        ),
      },
      async (request, reply) => {
      const current = await signedInPost(request, reply)
      if (!current) return reply
      const form: NewAppForm = {
        name: text(request.body, 'name'),
        type: text(request.body, 'app_type') || (LEGACY_GRANTS[text(request.body, 'grant')] ?? ''),
        redirectUris: text(request.body, 'redirect_uris'),
        scopes: text(request.body, 'scopes'),
        tokenFormat: text(request.body, 'token_format'),
        accessTokenTtl: text(request.body, 'access_token_ttl'),
        ticked: texts(request.body, 'scope'),
        clientAuth: text(request.body, 'client_auth') || 'client_secret',
        jwks: text(request.body, 'jwks'),
      }
      const ttl = Number(form.accessTokenTtl)
      const problem = !CONSOLE_APP_TYPES.includes(form.type as ConsoleAppType)
        ? 'Choose an application type.'
        : form.tokenFormat !== 'jwt' && form.tokenFormat !== 'opaque'
          ? 'Choose a token format.'
          : !Number.isInteger(ttl) || ttl < 1 || ttl > maxTtl
            ? `Token lifetime must be a whole number of seconds from 1 to ${maxTtl}.`
            : form.clientAuth !== 'client_secret' && form.clientAuth !== 'private_key_jwt'
              ? 'Choose how the application proves itself.'
              : undefined
      const again = async (error: string): Promise<FastifyReply> => render(reply, 400, newAppPage({ username: current.user.username, csrf: current.csrf, form, error, maxTtl, choices: await apps.scopeChoices() }))
      if (problem) return again(problem)
      // Private key JWT is a Machine to machine choice; for the other types the field is ignored, as redirect URIs are for those that take none.
      const keys = form.type === 'machine' && form.clientAuth === 'private_key_jwt'
      if (keys && form.jwks.trim() === '') return again('Paste the public key (a JWK or JWK Set) for private key JWT.')
      let jwks
      try {
        jwks = keys ? parseJwksText(form.jwks) : undefined
      } catch (error) {
        if (error instanceof JwksError) return again(`Public key: ${error.message}.`)
        throw error
      }
      try {
        const { credentials } = await apps.create(actor(current.user, request), {
          name: form.name,
          type: form.type as ConsoleAppType,
          redirectUris: form.redirectUris.split(/\r?\n/).map((line) => line.trim()).filter(Boolean),
          scopes: [...new Set([...form.ticked, ...form.scopes.split(/\s+/).filter(Boolean)])],
          tokenFormat: form.tokenFormat as 'jwt' | 'opaque',
          accessTokenTtl: ttl,
          ...(jwks ? { clientAuth: { method: 'private_key_jwt' as const, jwks } } : {}),
        })
        return showOnce(request, reply, current.session, credentials, false)
      } catch (error) {
        if (error instanceof ConsoleError || error instanceof ClientValidationError || error instanceof ApiKeyValidationError) return again(error.message)
        throw error
      }
      },
    )

    const notFound = (reply: FastifyReply, current: { user: User; csrf: string }): FastifyReply =>
      render(reply, 404, messagePage({ title: 'Not found', message: 'There is no such application among yours.', username: current.user.username, csrf: current.csrf }))

    const appParams = { type: 'object', properties: { clientId: { type: 'string' } }, required: ['clientId'] }

    scope.get<{ Params: { clientId: string } }>(`${CONSOLE_PATH}/apps/:clientId`, { schema: { ...routeSchema('An application and its token activity'), params: appParams } }, async (request, reply) => {
      const current = await signedIn(request, reply)
      if (!current) return reply
      const view = await apps.get(current.user.id, request.params.clientId)
      if (!view) return notFound(reply, current)
      const notice = (request.query as Record<string, unknown>).updated === '1' ? 'Changes saved.' : undefined
      return render(reply, 200, appPage({ username: current.user.username, csrf: current.csrf, view, activity: await apps.activity(view.client.id), endpoints, ...(notice ? { notice } : {}) }))
    })

    scope.get<{ Params: { clientId: string } }>(`${CONSOLE_PATH}/apps/:clientId/edit`, { schema: { ...routeSchema('Edit-application form'), params: appParams } }, async (request, reply) => {
      const current = await signedIn(request, reply)
      if (!current) return reply
      const view = await apps.get(current.user.id, request.params.clientId)
      if (!view) return notFound(reply, current)
      const choices = await apps.scopeChoices()
      return render(reply, 200, editAppPage({ username: current.user.username, csrf: current.csrf, view, form: editFormOf(view, choices), maxTtl, choices }))
    })

    scope.post<{ Params: { clientId: string } }>(
      `${CONSOLE_PATH}/apps/:clientId/edit`,
      {
        schema: {
          ...routeSchema(
            'Edit an application',
            'Form post: name, scope (repeatable checkboxes) and scopes (space-separated; not for an API-key application, whose key fixes them), access_token_ttl (1 to the server maximum), _csrf. Answers 303 to the application page; bad input comes back on the form with 400.',
          ),
          params: appParams,
        },
      },
      async (request, reply) => {
        const current = await signedInPost(request, reply)
        if (!current) return reply
        const view = await apps.get(current.user.id, request.params.clientId)
        if (!view) return notFound(reply, current)
        const form: EditAppForm = { name: text(request.body, 'name'), ticked: texts(request.body, 'scope'), scopes: text(request.body, 'scopes'), accessTokenTtl: text(request.body, 'access_token_ttl') }
        const again = async (error: string): Promise<FastifyReply> => render(reply, 400, editAppPage({ username: current.user.username, csrf: current.csrf, view, form, error, maxTtl, choices: await apps.scopeChoices() }))
        const ttl = Number(form.accessTokenTtl)
        if (!/^\d+$/.test(form.accessTokenTtl.trim()) || !Number.isInteger(ttl) || ttl < 1 || ttl > maxTtl) return again(`Token lifetime must be a whole number of seconds from 1 to ${maxTtl}.`)
        try {
          const updated = await apps.update(actor(current.user, request), view.client.id, { name: form.name, scopes: [...new Set([...form.ticked, ...form.scopes.split(/\s+/).filter(Boolean)])], accessTokenTtl: ttl })
          if (!updated) return notFound(reply, current)
        } catch (error) {
          if (error instanceof ConsoleError || error instanceof ClientValidationError) return again(error.message)
          throw error
        }
        return redirect(reply, `${CONSOLE_PATH}/apps/${encodeURIComponent(view.client.id)}?updated=1`)
      },
    )

    scope.post<{ Params: { clientId: string } }>(`${CONSOLE_PATH}/apps/:clientId/rotate`, { schema: { ...routeSchema('Rotate the secret (or API key)', 'The old credential stops working at once; answers 303 to /console/apps/{id}/credentials, which shows the new one once.'), params: appParams } }, async (request, reply) => {
      const current = await signedInPost(request, reply)
      if (!current) return reply
      let credentials
      try {
        credentials = await apps.rotate(actor(current.user, request), request.params.clientId)
      } catch (error) {
        if (!(error instanceof ConsoleError)) throw error
        return render(reply, 400, messagePage({ title: 'Nothing to rotate', message: error.message, username: current.user.username, csrf: current.csrf }))
      }
      if (!credentials) return notFound(reply, current)
      return showOnce(request, reply, current.session, credentials, true)
    })

    scope.get<{ Params: { clientId: string } }>(
      `${CONSOLE_PATH}/apps/:clientId/credentials`,
      { schema: { ...routeSchema('New credentials, shown once', 'Where Generate and Rotate redirect (303). Shows the new secret or API key once, to the session that made it, within 5 minutes; a reload says it was shown already. An application without a secret (public, private key JWT) shows its Client ID every time.'), params: appParams } },
      async (request, reply) => {
        const current = await signedIn(request, reply)
        if (!current) return reply
        const view = await apps.get(current.user.id, request.params.clientId)
        if (!view) return notFound(reply, current)
        const path = credentialsPath(view.client.id)
        const taken = await oneTime.take(request.cookies[CREDENTIALS_COOKIE], current.session.nonce, view.client.id, gatehouse.clock.now())
        // Cleared whatever it held: a cookie that was shown, expired or is another session's is no use either.
        if (request.cookies[CREDENTIALS_COOKIE] !== undefined) reply.clearCookie(CREDENTIALS_COOKIE, { ...cookieOptions(request), path })
        const page = { username: current.user.username, csrf: current.csrf, view, endpoints }
        if (taken) return render(reply, 200, credentialsPage({ ...page, ...taken }))
        // Nothing secret to lose: a public or private key JWT application's page can always be shown.
        const kind = view.client.tokenEndpointAuthMethod === 'none' ? 'public' : view.client.tokenEndpointAuthMethod === 'private_key_jwt' ? 'keys' : undefined
        if (kind && view.app.kind !== 'api_key') return render(reply, 200, credentialsPage({ ...page, credentials: { kind, clientId: view.client.id }, rotated: false }))
        return render(reply, 410, shownAlreadyPage({ username: current.user.username, csrf: current.csrf, view }))
      },
    )

    scope.post<{ Params: { clientId: string } }>(`${CONSOLE_PATH}/apps/:clientId/delete`, { schema: { ...routeSchema('Delete an application'), params: appParams } }, async (request, reply) => {
      const current = await signedInPost(request, reply)
      if (!current) return reply
      if (!(await apps.delete(actor(current.user, request), request.params.clientId))) return notFound(reply, current)
      return redirect(reply, `${CONSOLE_PATH}?deleted=1`)
    })
  })
}
