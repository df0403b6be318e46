import type { ScopeDescription } from '../../../core/authorization/authorizer.js'
import { Html, html, page } from '../console/html.js'

/**
 * The hosted pages a person sees while an application signs them in: sign-in, consent, and
 * the error page for requests that cannot go back to the application. Server-rendered forms
 * that work without JavaScript; every form carries a CSRF token, and the authorization request
 * travels as one hidden field that the server checks again on every post.
 */
const AREA = 'sign in'
const HOME = '/console'

export function signInPage(options: { csrf: string; authorization: string; clientName: string; error?: string; username?: string; status?: string }): string {
  return page({
    title: 'Sign in',
    area: AREA,
    home: HOME,
    body: html`<div class="card narrow">
<h1>Sign in</h1>
<p class="muted">to continue to <strong>${options.clientName}</strong></p>
${options.error ? html`<div class="alert error" role="alert">${options.error}</div>` : ''}
<form method="post" action="/signin">
<input type="hidden" name="_csrf" value="${options.csrf}">
<input type="hidden" name="authorization" value="${options.authorization}">
<label class="field"><span>Email</span><input name="username" type="email" autocomplete="username" required ${options.username ? '' : new Html('autofocus')} value="${options.username ?? ''}"></label>
<label class="field"><span>Password</span><input name="password" type="password" autocomplete="current-password" required ${options.username ? new Html('autofocus') : ''}></label>
<button class="primary" type="submit">Sign in</button>
</form>
</div>`,
  })
}

export function consentPage(options: { csrf: string; authorization: string; clientName: string; username: string; scopes: ScopeDescription[] }): string {
  const items = options.scopes.map((scope) => html`<li>${scope.description} <span class="muted mono">(${scope.name})</span></li>`)
  return page({
    title: `Allow ${options.clientName}?`,
    area: AREA,
    home: HOME,
    body: html`<div class="card narrow">
<h1><strong>${options.clientName}</strong> wants to use your account</h1>
<p class="muted">Signed in as ${options.username}</p>
${items.length > 0 ? html`<p>It asks to:</p><ul class="scopes">${items}</ul>` : html`<p>It asks to know who you are.</p>`}
<p class="muted">You can take this back at any time under "Connected apps" in the console.</p>
<form method="post" action="/consent" class="actions">
<input type="hidden" name="_csrf" value="${options.csrf}">
<input type="hidden" name="authorization" value="${options.authorization}">
<button class="primary" type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</div>`,
  })
}

export function hostedMessagePage(options: { title: string; message: string }): string {
  return page({
    title: options.title,
    area: AREA,
    home: HOME,
    body: html`<div class="card narrow"><h1>${options.title}</h1><p role="alert">${options.message}</p></div>`,
  })
}
