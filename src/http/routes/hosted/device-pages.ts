import type { ScopeDescription } from '../../../core/authorization/authorizer.js'
import { Html, html, page } from '../console/html.js'

/**
 * The pages of the device verification URI (RFC 8628 §3.3): code entry, sign-in, confirmation
 * and done. Server-rendered forms that work without JavaScript, each with a CSRF token; the user
 * code travels as a hidden field and is looked up again on every post.
 */
const AREA = 'sign in'
const HOME = '/console'

export const DEVICE_PATH = '/device'
export const DEVICE_SIGN_IN_PATH = '/device/signin'
export const DEVICE_DECISION_PATH = '/device/decision'
export const DEVICE_DONE_PATH = '/device/done'

const card = (title: string, body: Html): string => page({ title, area: AREA, home: HOME, body: html`<div class="card narrow">${body}</div>` })
const alert = (error: string | undefined): Html | string => (error ? html`<div class="alert error" role="alert">${error}</div>` : '')

export function deviceCodePage(options: { csrf: string; userCode?: string; error?: string }): string {
  return card(
    'Connect a device',
    html`<h1>Connect a device</h1>
<p class="muted">Enter the code shown on your device or in your terminal.</p>
${alert(options.error)}
<form method="post" action="${DEVICE_PATH}">
<input type="hidden" name="_csrf" value="${options.csrf}">
<label class="field"><span>Code</span><input class="user-code" name="user_code" type="text" required autofocus autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="20" placeholder="XXXX-XXXX" value="${options.userCode ?? ''}"></label>
<button class="primary" type="submit">Continue</button>
</form>`,
  )
}

export function deviceSignInPage(options: { csrf: string; userCode: string; clientName: string; error?: string; username?: string }): string {
  return card(
    'Sign in',
    html`<h1>Sign in</h1>
<p class="muted">to connect <strong>${options.clientName}</strong> on your device</p>
<p class="code-line">Code <span class="user-code">${options.userCode}</span></p>
${alert(options.error)}
<form method="post" action="${DEVICE_SIGN_IN_PATH}">
<input type="hidden" name="_csrf" value="${options.csrf}">
<input type="hidden" name="user_code" value="${options.userCode}">
<label class="field"><span>Email</span><input name="username" type="email" autocomplete="username" required ${options.username ? '' : new Html('autofocus')} value="${options.username ?? ''}"></label>
<label class="field"><span>Password</span><input name="password" type="password" autocomplete="current-password" required ${options.username ? new Html('autofocus') : ''}></label>
<button class="primary" type="submit">Sign in</button>
</form>`,
  )
}

export function deviceConfirmPage(options: { csrf: string; userCode: string; clientName: string; username: string; scopes: ScopeDescription[] }): string {
  const items = options.scopes.map((scope) => html`<li>${scope.description} <span class="muted mono">(${scope.name})</span></li>`)
  return card(
    `Connect ${options.clientName}?`,
    html`<h1><strong>${options.clientName}</strong> wants to use your account on a device</h1>
<p class="muted">Signed in as ${options.username}</p>
<p class="code-line">Code <span class="user-code">${options.userCode}</span></p>
<div class="alert warning">Allow only if this is the code your own device shows, and you started this sign-in yourself. Never enter a code someone sent you.</div>
${items.length > 0 ? html`<p>It asks to:</p><ul class="scopes">${items}</ul>` : html`<p>It asks to know who you are.</p>`}
<p class="muted">You can take this back at any time under "Connected apps" in the console.</p>
<form method="post" action="${DEVICE_DECISION_PATH}" class="actions">
<input type="hidden" name="_csrf" value="${options.csrf}">
<input type="hidden" name="user_code" value="${options.userCode}">
<button class="primary" type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  )
}

export function deviceDonePage(outcome: 'approved' | 'denied'): string {
  return outcome === 'approved'
    ? card('Device connected', html`<h1>Device connected</h1><p role="status">You can return to your device. It will finish signing in by itself in a few seconds.</p><p class="muted">You can close this page.</p>`)
    : card('Request denied', html`<h1>Request denied</h1><p role="status">Nothing was shared with the device. You can close this page.</p>`)
}
