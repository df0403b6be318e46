import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { readIdTokenHint, type IdTokenHint } from '../../../core/tokens/id-token.js'
import type { Client } from '../../../core/types.js'
import type { Gatehouse } from '../../../gatehouse.js'
import { html, page } from '../console/html.js'
import type { SessionKeys } from '../console/session.js'
import { hostedMessagePage } from './pages.js'

export const LOGOUT_PATH = '/oauth/logout'

type CookieOptions = (request: FastifyRequest, path?: string) => { path: string; httpOnly: boolean; sameSite: 'lax'; secure: boolean }

interface LogoutDeps {
  gatehouse: Gatehouse
  keys: SessionKeys
  sessionCookie: string
  cookieOptions: CookieOptions
  render(reply: FastifyReply, status: number, body: string, formTargets?: readonly string[]): FastifyReply
}

class LogoutError extends Error {}

/** One string per parameter; a repeat or a non-string is refused. */
function logoutParameters(source: unknown): Map<string, string> {
  const parameters = new Map<string, string>()
  if (source === null || typeof source !== 'object') return parameters
  for (const [name, value] of Object.entries(source as Record<string, unknown>)) {
    if (typeof value !== 'string') throw new LogoutError(`The ${name.slice(0, 50)} parameter is malformed or repeated.`)
    if (value !== '') parameters.set(name, value)
  }
  return parameters
}

function confirmPage(options: { csrf: string; fields: Record<string, string>; clientName: string | undefined }): string {
  const hidden = Object.entries(options.fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)
  return page({
    title: 'Sign out?',
    area: 'sign in',
    home: '/console',
    body: html`<div class="card narrow">
<h1>Sign out?</h1>
<p>${options.clientName ? html`<strong>${options.clientName}</strong> asks to sign you out of Gatehouse.` : 'Sign out of Gatehouse on this browser?'}</p>
<form method="post" action="${LOGOUT_PATH}" class="actions">
<input type="hidden" name="_csrf" value="${options.csrf}">
${hidden}
<button class="primary" type="submit" name="confirm" value="yes">Sign out</button>
</form>
</div>`,
  })
}

/**
 * OpenID Connect RP-Initiated Logout 1.0 at `/oauth/logout`: ends the sign-in session and sends
 * the browser to a `post_logout_redirect_uri` the client registered (exact match, §3), with its
 * `state`. Without a valid `id_token_hint` for the signed-in user the person is asked first
 * (§2: a stranger's link must not sign anyone out).
 */
export function registerLogout(scope: FastifyInstance, deps: LogoutDeps, aliases: readonly string[] = []): void {
  const { gatehouse, keys, render } = deps
  const handler = async (request: FastifyRequest, reply: FastifyReply, source: unknown): Promise<FastifyReply> => {
    let parameters: Map<string, string>
    let client: Client | undefined
    let hint: IdTokenHint | undefined
    try {
      parameters = logoutParameters(source)
      const hintText = parameters.get('id_token_hint')
      hint = hintText === undefined ? undefined : await readIdTokenHint(gatehouse.keys, hintText, gatehouse.config.issuer)
      if (hintText !== undefined && hint === undefined) throw new LogoutError('The id_token_hint is not an ID token of this server.')
      const clientId = parameters.get('client_id') ?? hint?.clientId
      if (hint && parameters.get('client_id') !== undefined && parameters.get('client_id') !== hint.clientId) throw new LogoutError('client_id does not match the id_token_hint.')
      client = clientId === undefined ? undefined : await gatehouse.clientCache.get(clientId)
      if (clientId !== undefined && !client) throw new LogoutError('No application is registered with this client_id.')
      const target = parameters.get('post_logout_redirect_uri')
      if (target !== undefined && (!client || !client.postLogoutRedirectUris.includes(target))) throw new LogoutError('The post_logout_redirect_uri is not registered for this application.')
    } catch (error) {
      if (error instanceof LogoutError) return render(reply, 400, hostedMessagePage({ title: 'This sign-out link is not valid', message: error.message }))
      throw error
    }

    const live = await gatehouse.signInSessions.resume(request.cookies[deps.sessionCookie])
    const confirmed = live !== undefined && keys.checkCsrf(`logout.${live.session.digest}`, typeof (request.body as Record<string, unknown> | undefined)?._csrf === 'string' ? (request.body as Record<string, string>)._csrf : undefined)
    const hintMatches = live !== undefined && hint !== undefined && hint.subject === live.user.id
    if (live && !confirmed && !hintMatches) {
      const fields = Object.fromEntries([...parameters].filter(([name]) => ['client_id', 'post_logout_redirect_uri', 'state', 'id_token_hint'].includes(name)))
      const target = parameters.get('post_logout_redirect_uri')
      return render(reply, 200, confirmPage({ csrf: keys.csrfToken(`logout.${live.session.digest}`), fields, clientName: client?.name }), target === undefined ? [] : [target])
    }
    if (live) await gatehouse.signInSessions.endByCookie(request.cookies[deps.sessionCookie])
    reply.clearCookie(deps.sessionCookie, deps.cookieOptions(request))
    const target = parameters.get('post_logout_redirect_uri')
    if (target === undefined) return render(reply, 200, hostedMessagePage({ title: 'Signed out', message: 'You have signed out of Gatehouse on this browser.' }))
    const url = new URL(target)
    const state = parameters.get('state')
    if (state !== undefined) url.searchParams.append('state', state)
    return reply.code(303).header('location', url.toString()).header('cache-control', 'no-store').send()
  }
  const schema = { tags: ['Sign-in (authorization code)'], summary: 'RP-initiated logout', description: 'OpenID Connect RP-Initiated Logout: id_token_hint, client_id, post_logout_redirect_uri (registered, exact), state.', produces: ['text/html'] }
  // `aliases`: the IdentityServer dialect's /connect/endsession.
  for (const path of new Set([LOGOUT_PATH, ...aliases])) {
    scope.get(path, { schema }, async (request, reply) => handler(request, reply, request.query))
    scope.post(path, { schema: { ...schema, summary: 'RP-initiated logout (form post)' } }, async (request, reply) => handler(request, reply, request.body))
  }
}
