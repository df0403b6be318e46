import { APP_TYPE_SETTINGS, appTypeOf, type ApplicationView, type ConsoleAppType, type Credentials, type ScopeChoices } from '../../../core/admin/console-apps.js'
import type { AuditEvent } from '../../../core/audit/audit-store.js'
import { html, page, stackedTable, type Html } from './html.js'
import { API_KEY_PLACEHOLDER, apiKeyTokenRequest, ASSERTION_PLACEHOLDER, LANGUAGES, SECRET_PLACEHOLDER, snippet, tokenRequest, type SnippetRequest } from '../../../snippets/index.js'

/** The application types in plain words, and what each is for (shown on the form without JavaScript). */
export const APP_TYPE_LABELS: Record<ConsoleAppType, { label: string; hint: string }> = {
  web: { label: 'Server-side web app', hint: 'People sign in through Gatehouse; your server keeps a Client Secret. Needs a redirect URI.' },
  spa: { label: 'Single-page app', hint: 'People sign in through Gatehouse from JavaScript in the browser. No secret: it uses PKCE. Needs a redirect URI.' },
  native: { label: 'Native app', hint: 'A mobile or desktop app; people sign in through Gatehouse in the system browser. No secret: it uses PKCE. Needs a redirect URI.' },
  device: { label: 'Device or CLI', hint: 'A TV, a terminal, anything without a browser: people sign in on another device with a code. No secret.' },
  machine: { label: 'Machine to machine', hint: 'A server or job acting for itself: a Client ID and a Client Secret (or your own key: private key JWT) for POST /oauth/token.' },
  password: { label: 'Resource owner password', hint: 'Your own app sends your username and password (IdentityServer-style /connect/token). For older integrations.' },
  api_key: { label: 'API key', hint: 'One API key (KEYID:SECRET) exchanged for tokens at /v2/oauth/request-tokens.' },
}

/** Where each kind of application asks for tokens (the dialect its curl command uses). */
export interface TokenEndpoints {
  base: string
  standardToken: string
  identityServerToken: string | null
  canaryRequestTokens: string | null
}

const when = (ms: number | null): string => (ms === null ? '—' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))

/** The top bar's links; `operator` adds the operator section's (shown only to operators). */
export function header(username: string, csrf: string, operator = false): Html {
  return html`<a class="link" href="/console">Applications</a><a class="link" href="/console/connected">Connected apps</a>${operator ? html`<a class="link" href="/console/operator">Operator</a>` : ''}<span class="who">${username}</span><form method="post" action="/console/logout"><input type="hidden" name="_csrf" value="${csrf}"><button class="link" type="submit">Sign out</button></form>`
}

/** An application the user allowed to act for them (a consent), for "Connected apps". */
export interface ConnectedApp {
  clientId: string
  name: string
  scopes: { name: string; description: string }[]
  since: number
}

export function connectedAppsPage(options: { username: string; csrf: string; apps: ConnectedApp[]; notice?: string }): string {
  const items = options.apps.map(
    (app) => html`<section class="connected" aria-label="${app.name}">
<div><h3>${app.name}</h3><p class="muted">Allowed since ${when(app.since)} · <span class="mono">${app.clientId}</span></p></div>
<div><span class="muted">It may:</span><ul class="scopes">${app.scopes.map((scope) => html`<li>${scope.description}</li>`)}</ul></div>
<div class="actions"><form method="post" action="/console/connected/${encodeURIComponent(app.clientId)}/revoke"><input type="hidden" name="_csrf" value="${options.csrf}"><button type="submit" class="danger" aria-label="Remove access for ${app.name}">Remove access</button></form></div>
</section>`,
  )
  return page({
    title: 'Connected apps',
    header: header(options.username, options.csrf),
    body: html`<h1>Connected apps</h1>
<p class="muted">Applications you signed in to with your Gatehouse account, and what you allowed each to do. Removing access stops its tokens at once; it will ask again next time.</p>
${options.notice ? html`<div class="alert success" role="status">${options.notice}</div>` : ''}
<div class="card">
${options.apps.length === 0 ? html`<p class="empty">No application has access to your account.</p>` : items}
</div>
<div class="card">
<h2>Sign out everywhere</h2>
<p class="muted">Ends your sign-in on every browser and device, this one included. Applications keep the access you gave them; remove it above.</p>
<form method="post" action="/console/sign-out-everywhere"><input type="hidden" name="_csrf" value="${options.csrf}"><button type="submit" class="danger">Sign out everywhere</button></form>
</div>`,
  })
}

export function loginPage(options: { csrf: string; error?: string; username?: string }): string {
  return page({
    title: 'Sign in',
    body: html`<div class="card narrow">
<h1>Sign in</h1>
<p class="muted">Use your Gatehouse user account to manage your applications.</p>
${options.error ? html`<div class="alert error" role="alert">${options.error}</div>` : ''}
<form method="post" action="/console/login">
<input type="hidden" name="_csrf" value="${options.csrf}">
<label class="field"><span>Username</span><input name="username" type="email" autocomplete="username" required value="${options.username ?? ''}"></label>
<label class="field"><span>Password</span><input name="password" type="password" autocomplete="current-password" required></label>
<button class="primary" type="submit">Sign in</button>
</form>
</div>`,
  })
}

export function dashboardPage(options: { username: string; csrf: string; apps: ApplicationView[]; notice?: string; operator?: boolean }): string {
  const rows = options.apps.map(
    (view) => html`<tr>
<td><a href="/console/apps/${encodeURIComponent(view.client.id)}">${view.client.name}</a></td>
<td><span class="badge">${APP_TYPE_LABELS[appTypeOf(view)].label}</span></td>
<td class="mono">${view.client.id}</td>
<td>${view.client.tokenFormat === 'jwt' ? 'JWT' : 'Opaque'}</td>
<td>${when(view.app.createdAt)}</td>
</tr>`,
  )
  return page({
    title: 'Applications',
    header: header(options.username, options.csrf, options.operator === true),
    script: 'console.js',
    body: html`<div class="actions spread"><h1>Your applications</h1><a class="button primary" href="/console/apps/new">Create application</a></div>
${options.notice ? html`<div class="alert success" role="status">${options.notice}</div>` : ''}
<div class="card">
${
  options.apps.length === 0
    ? html`<p class="empty">No applications yet. Create one to get a Client ID and Client Secret.</p>`
    : stackedTable(['Name', 'Type', 'Client ID', 'Tokens', 'Created'], rows)
}
</div>`,
  })
}

export interface NewAppForm {
  name: string
  /** One of CONSOLE_APP_TYPES, as posted (checked by the route). */
  type: string
  /** One per line, as typed. */
  redirectUris: string
  scopes: string
  tokenFormat: string
  accessTokenTtl: string
  /** Scopes ticked in the list of available scopes. */
  ticked: string[]
  /** Machine to machine: `client_secret` (the default) or `private_key_jwt`, as posted. */
  clientAuth: string
  /** The public JWK (or JWK Set) pasted for private_key_jwt, as typed. */
  jwks: string
}

function scopeChoice(scope: { name: string; description: string }, ticked: readonly string[]): Html {
  return html`<label class="scope"><input type="checkbox" name="scope" value="${scope.name}"${ticked.includes(scope.name) ? html` checked` : ''}><code>${scope.name}</code><span class="description">${scope.description}</span></label>`
}

/** Server-rendered: every scope a console application may take, with what it allows. */
function scopeList(choices: ScopeChoices, ticked: readonly string[]): Html {
  const apis = choices.apis.map(
    (api) => html`<h3>${api.name}<small class="mono">${api.identifier}</small></h3>
${api.scopes.map((scope) => scopeChoice(scope, ticked))}`,
  )
  return html`<fieldset class="scopes" id="available-scopes"><legend>Available scopes</legend>
<h3>Sign-in (OpenID Connect)</h3>
${choices.always.map((scope) => scopeChoice(scope, ticked))}
${choices.apis.length === 0 ? html`<p class="muted">No API offers self-service scopes yet: an operator registers them (<code>gatehouse apis create</code>).</p>` : apis}
</fieldset>`
}

export function newAppPage(options: { username: string; csrf: string; form: NewAppForm; error?: string; maxTtl: number; choices: ScopeChoices }): string {
  const { form } = options
  const types = (Object.entries(APP_TYPE_LABELS) as [ConsoleAppType, { label: string; hint: string }][]).map(
    ([value, { label, hint }]) =>
      html`<label class="choice"><input type="radio" name="app_type" value="${value}" data-redirect-uris="${APP_TYPE_SETTINGS[value].redirectUris ? 'yes' : 'no'}"${form.type === value ? html` checked` : ''} data-client-auth="${value === 'machine' ? 'yes' : 'no'}" required><span class="label">${label}</span><span class="description">${hint}</span></label>`,
  )
  return page({
    title: 'Create application',
    header: header(options.username, options.csrf),
    script: 'console.js',
    body: html`<h1>Create application</h1>
${options.error ? html`<div class="alert error" role="alert">${options.error}</div>` : ''}
<div class="card">
<form method="post" action="/console/apps">
<input type="hidden" name="_csrf" value="${options.csrf}">
<label class="field"><span>App Name</span><input name="name" required maxlength="200" value="${form.name}"></label>
<fieldset class="choices" id="app-types"><legend>Application type</legend>
${types}
</fieldset>
<fieldset class="choices" id="client-auth-field"><legend>How it proves itself (Machine to machine)</legend>
<label class="choice"><input type="radio" name="client_auth" value="client_secret"${form.clientAuth !== 'private_key_jwt' ? html` checked` : ''}><span class="label">Client secret</span><span class="description">Gatehouse makes a secret, shown once; your service sends it with each token request.</span></label>
<label class="choice"><input type="radio" name="client_auth" value="private_key_jwt"${form.clientAuth === 'private_key_jwt' ? html` checked` : ''}><span class="label">Private key JWT</span><span class="description">No shared secret: your service signs a short-lived JWT with its own private key (RFC 7523). Paste the public key below.</span></label>
<label class="field"><span>Public key (JWK or JWK Set)</span><textarea name="jwks" rows="5" spellcheck="false" autocapitalize="off" placeholder='{"kty":"EC","crv":"P-256","x":"…","y":"…","kid":"my-key-1"}'>${form.jwks}</textarea><small>For private key JWT only: the public half of your key, as a JWK or a JWK Set — EC P-256 (ES256), RSA of 2048 bits or more (RS256, PS256) or Ed25519 (EdDSA). Never paste the private key: a key with "d" is refused.</small></label>
</fieldset>
<label class="field" id="redirect-uris-field"><span>Redirect URIs</span><textarea name="redirect_uris" rows="3" spellcheck="false" autocapitalize="off" placeholder="https://app.example.com/callback">${form.redirectUris}</textarea><small>For server-side web, single-page and native apps: where Gatehouse sends people back after they sign in. One per line; https, or http://127.0.0.1 for local development, or an app scheme such as com.example.app:/callback. No # fragment.</small></label>
${scopeList(options.choices, form.ticked)}
<label class="field"><span>Scopes</span><input name="scopes" value="${form.scopes}" placeholder="e.g. orders:read orders:write"><small>Tick scopes above, or type them here, space-separated. Only the scopes listed above are available; an operator grants the others.</small></label>
<label class="field"><span>Token format</span><select name="token_format"><option value="jwt"${form.tokenFormat !== 'opaque' ? html` selected` : ''}>JWT (RFC 9068, verifiable offline)</option><option value="opaque"${form.tokenFormat === 'opaque' ? html` selected` : ''}>Opaque (sk-…, checked by introspection)</option></select></label>
<label class="field"><span>Token lifetime (seconds)</span><input name="access_token_ttl" type="number" min="1" max="${options.maxTtl}" required value="${form.accessTokenTtl}"></label>
<div class="actions"><button class="primary" type="submit">Generate</button><a href="/console">Cancel</a></div>
</form>
</div>`,
  })
}

/** The edit form's fields, as posted (or as the application has them). */
export interface EditAppForm {
  name: string
  /** Scopes ticked among the self-service ones. */
  ticked: string[]
  /** The others, space-separated (e.g. one an operator granted). */
  scopes: string
  accessTokenTtl: string
}

/** The edit form's values for an application as it is: scopes on offer ticked, the rest typed. */
export function editFormOf(view: ApplicationView, choices: ScopeChoices): EditAppForm {
  const offered = new Set([...choices.always.map((scope) => scope.name), ...choices.apis.flatMap((api) => api.scopes.map((scope) => scope.name))])
  const scopes = view.apiKey?.scopes ?? view.client.scopes
  return { name: view.client.name, ticked: scopes.filter((scope) => offered.has(scope)), scopes: scopes.filter((scope) => !offered.has(scope)).join(' '), accessTokenTtl: String(view.client.accessTokenTtl) }
}

export function editAppPage(options: { username: string; csrf: string; view: ApplicationView; form: EditAppForm; error?: string; maxTtl: number; choices: ScopeChoices }): string {
  const { form, view } = options
  const id = encodeURIComponent(view.client.id)
  const apiKey = view.app.kind === 'api_key'
  return page({
    title: `Edit ${view.client.name}`,
    header: header(options.username, options.csrf),
    script: 'console.js',
    body: html`<p><a href="/console/apps/${id}">← ${view.client.name}</a></p>
<h1>Edit application</h1>
${options.error ? html`<div class="alert error" role="alert">${options.error}</div>` : ''}
<div class="card">
<form method="post" action="/console/apps/${id}/edit">
<input type="hidden" name="_csrf" value="${options.csrf}">
<label class="field"><span>App Name</span><input name="name" required maxlength="200" value="${form.name}"></label>
${
  apiKey
    ? html`<div class="field"><span class="label">Scopes</span><p class="mono">${(view.apiKey?.scopes ?? []).join(' ') || '—'}</p><p class="muted small">An API key's scopes are fixed when it is made. For other scopes, create a new API-key application.</p></div>`
    : html`${scopeList(options.choices, form.ticked)}
<label class="field"><span>Other scopes</span><input name="scopes" value="${form.scopes}" placeholder="e.g. orders:read"><small>Space-separated. Scopes the application has already (for example one an operator granted) may stay; a new one must be among those listed above.</small></label>`
}
<label class="field"><span>Token lifetime (seconds)</span><input name="access_token_ttl" type="number" min="1" max="${options.maxTtl}" required value="${form.accessTokenTtl}"><small>Access tokens issued from now on live this long: 1 to ${options.maxTtl} seconds. Tokens already issued keep theirs.</small></label>
<div class="actions"><button class="primary" type="submit">Save changes</button><a href="/console/apps/${id}">Cancel</a></div>
</form>
</div>`,
  })
}

function secretRow(id: string, label: string, value: string): Html {
  return html`<label class="field"><span>${label}</span><div class="secret"><code class="value" id="${id}">${value}</code><button type="button" data-copy="${id}" hidden>Copy</button></div></label>`
}

/**
 * The token request an application makes, as one request for the snippet generator: the
 * dialect each kind uses, with the credentials where its auth method puts them. Without
 * `credentials` (the application's page, after the secret was shown) the secret is a placeholder.
 */
function tokenRequestOf(view: ApplicationView, type: ConsoleAppType, endpoints: TokenEndpoints, credentials?: Credentials): SnippetRequest {
  if (view.app.kind === 'api_key') {
    return apiKeyTokenRequest(credentials?.kind === 'api_key' ? credentials.apiKey : undefined, `${endpoints.base}${endpoints.canaryRequestTokens ?? '/v2/oauth/request-tokens'}`)
  }
  const registered = view.client.tokenEndpointAuthMethod
  // Without the secret, the sample sends it as a form field (client_secret_post, RFC 6749
  // §2.3.1, accepted for every secret client): a placeholder inside Basic's base64 could not
  // be replaced by hand.
  const method = registered === 'client_secret_basic' && credentials?.kind !== 'client' ? 'client_secret_post' : registered
  // A password application's people sign in through its own form, at the IdentityServer-style endpoint.
  const path = type === 'password' ? (endpoints.identityServerToken ?? endpoints.standardToken) : endpoints.standardToken
  return tokenRequest({
    clientId: view.client.id,
    ...(credentials?.kind === 'client' ? { clientSecret: credentials.clientSecret } : {}),
    authMethod: method === 'private_key_jwt' || method === 'none' || method === 'client_secret_post' ? method : 'client_secret_basic',
    tokenEndpoint: `${endpoints.base}${path}`,
    ...(type === 'password' ? { grantType: 'password' as const } : {}),
  })
}

/**
 * What the reader replaces in the request, said in words: the signed JWT of a private key JWT
 * application (RFC 7523), or, on the application's page, the secret it does not keep.
 */
function placeholderHint(view: ApplicationView, base: string, credentials?: Credentials): Html | '' {
  if (view.client.tokenEndpointAuthMethod === 'private_key_jwt') {
    return html`<p class="muted small" id="assertion-hint">Replace ${ASSERTION_PLACEHOLDER} with a JWT your service signs with its private key (RFC 7523): iss and sub <code>${view.client.id}</code>, aud <code>${base}</code>, exp within 5 minutes, a jti never used before.</p>`
  }
  if (credentials !== undefined) return ''
  if (view.app.kind === 'api_key') return html`<p class="muted small">${API_KEY_PLACEHOLDER} is the API key shown when the application was created or last rotated.</p>`
  if (view.client.tokenEndpointAuthMethod === 'none') return ''
  return html`<p class="muted small">${SECRET_PLACEHOLDER} is the Client Secret shown when the application was created or last rotated.</p>`
}

/**
 * The token request in every language the generator knows: curl shown, the others behind a
 * language choice that console.js reveals (without the script, curl is there to copy). The
 * pages put it under their own "Get a token" heading.
 */
function tokenSnippets(view: ApplicationView, type: ConsoleAppType, endpoints: TokenEndpoints, credentials?: Credentials): Html {
  const request = tokenRequestOf(view, type, endpoints, credentials)
  const blocks = LANGUAGES.map(
    (entry, index) =>
      html`<div class="secret snippet" data-language="${entry.id}"${index === 0 ? '' : html` hidden`}><pre class="code value" id="snippet-${entry.id}">${snippet(request, entry.id)}</pre><button type="button" data-copy="snippet-${entry.id}" hidden>Copy</button></div>`,
  )
  return html`<div class="field" id="get-a-token"><div class="actions"><label class="snippet-language" hidden>Language <select id="snippet-language">${LANGUAGES.map((entry) => html`<option value="${entry.id}">${entry.label}</option>`)}</select></label></div>
${blocks}
${placeholderHint(view, endpoints.base, credentials)}</div>`
}

/** Applications whose users sign in through Gatehouse's pages (not a token request of their own). */
const signsIn = (type: ConsoleAppType): boolean => APP_TYPE_SETTINGS[type].signsInOthers

/** How a sign-in application talks to Gatehouse: its library reads the rest from discovery. */
/** `redirectUris` false where the page lists them already (the application's settings). */
function signInFacts(view: ApplicationView, type: ConsoleAppType, endpoints: TokenEndpoints, redirectUris = true): Html {
  const flow = type === 'device' ? 'Device authorization (RFC 8628): people enter a code on another device' : view.client.tokenEndpointAuthMethod === 'none' ? 'Authorization code with PKCE (S256); no client secret' : 'Authorization code with PKCE (S256), and the Client Secret at the token endpoint'
  return html`<dl class="facts" id="sign-in">
<dt>Issuer</dt><dd class="mono">${endpoints.base}</dd>
<dt>Discovery</dt><dd class="mono">${endpoints.base}/.well-known/openid-configuration</dd>
<dt>Flow</dt><dd>${flow}</dd>
${redirectUris && view.client.redirectUris.length > 0 ? html`<dt>Redirect URIs</dt><dd class="mono">${view.client.redirectUris.map((uri) => html`<div>${uri}</div>`)}</dd>` : ''}
</dl>
<p class="muted">Give your OpenID Connect or OAuth library the issuer and the Client ID${view.client.tokenEndpointAuthMethod === 'none' ? '' : ' and Client Secret'}: it finds the endpoints itself. People see a sign-in page and are asked to consent to the scopes.</p>`
}

export function credentialsPage(options: { username: string; csrf: string; view: ApplicationView; credentials: Credentials; endpoints: TokenEndpoints; rotated: boolean }): string {
  const { view, credentials } = options
  const type = appTypeOf(view)
  const fields =
    credentials.kind === 'api_key'
      ? [secretRow('api-key', 'API Key', credentials.apiKey)]
      : credentials.kind === 'public' || credentials.kind === 'keys'
        ? [secretRow('client-id', 'Client ID', credentials.clientId)]
        : [secretRow('client-id', 'Client ID', credentials.clientId), secretRow('client-secret', 'Client Secret', credentials.clientSecret)]
  const notice =
    credentials.kind === 'public'
      ? html`<div class="alert success" role="status" id="no-secret">This is a public application: it has no Client Secret, because a browser or a device cannot keep one. It proves itself with PKCE${type === 'device' ? ' (or, here, the device code)' : ''} instead. The Client ID is not a secret.</div>`
      : credentials.kind === 'keys'
        ? html`<div class="alert success" role="status" id="no-secret">This application proves itself with its own key (private key JWT): it has no Client Secret. Gatehouse keeps only the public key you pasted; keep the private key in your service. Each token request carries a new JWT signed with it (iss and sub the Client ID, aud the issuer, exp within 5 minutes, a jti never used before).</div>`
        : html`<div class="alert warning" role="alert">Copy ${credentials.kind === 'api_key' ? 'the API key' : 'the Client Secret'} now: it is shown only once. Gatehouse keeps only a digest of it.${options.rotated ? ' The previous one no longer works.' : ''}</div>`
  const usage = signsIn(type)
    ? html`<h2>Sign people in</h2>${signInFacts(view, type, options.endpoints)}`
    : html`<h2>Get a token</h2>${tokenSnippets(view, type, options.endpoints, credentials)}`
  return page({
    title: options.rotated ? 'New secret' : 'Application created',
    header: header(options.username, options.csrf),
    script: 'console.js',
    body: html`<h1>${options.rotated ? 'New credentials for' : 'Created'} ${view.client.name}</h1>
${notice}
<div class="card">
${fields}
${usage}
</div>
<div class="actions"><a class="button primary" href="/console/apps/${encodeURIComponent(view.client.id)}">Done</a><a href="/console">All applications</a></div>`,
  })
}

/** The credentials page reloaded (or opened from another browser): the secret is not kept, so say how to get a new one. */
export function shownAlreadyPage(options: { username: string; csrf: string; view: ApplicationView }): string {
  const { view } = options
  const what = view.app.kind === 'api_key' ? 'API key' : 'Client Secret'
  return page({
    title: 'Shown already',
    header: header(options.username, options.csrf),
    body: html`<div class="card narrow" id="shown-already"><h1>${what} shown already</h1>
<p>The ${what} of <strong>${view.client.name}</strong> was shown once, right after it was made, and Gatehouse keeps only a digest of it: it cannot be shown again.</p>
<p>If you did not copy it, open the application and choose <strong>${view.app.kind === 'api_key' ? 'Rotate API key' : 'Rotate secret'}</strong>: you get a new one, and the old one stops working.</p>
<p class="actions"><a class="button primary" href="/console/apps/${encodeURIComponent(view.client.id)}">Open ${view.client.name}</a><a href="/console">All applications</a></p></div>`,
  })
}

/** Who an event names, for people: a username for `user:<id>` when the user still exists. */
function who(subject: string, usernames: Readonly<Record<string, string>>): string {
  if (!subject.startsWith('user:')) return subject
  return usernames[subject.slice('user:'.length)] ?? subject.slice('user:'.length)
}

function eventRow(event: AuditEvent, usernames: Readonly<Record<string, string>>): Html {
  const reason = typeof event.details.reason === 'string' ? event.details.reason : ''
  const fields = Array.isArray(event.details.fields) ? ` (${event.details.fields.filter((field): field is string => typeof field === 'string').join(', ')})` : ''
  return html`<tr><td>${when(event.at)}</td><td class="mono">${event.action}${fields}</td><td>${who(event.actor, usernames)}</td><td>${event.ip ?? ''}</td><td>${reason}</td></tr>`
}

/** Grant types in the words of the token request. */
const GRANT_LABELS: Readonly<Record<string, string>> = {
  client_credentials: 'client credentials',
  authorization_code: 'authorization code',
  refresh_token: 'refresh token',
  password: 'password',
  api_key: 'API key',
  'urn:ietf:params:oauth:grant-type:device_code': 'device code',
}

export function appPage(options: {
  username: string
  csrf: string
  view: ApplicationView
  activity: { issued: number; lastIssuedAt: number | null; byGrant: Record<string, number>; events: AuditEvent[]; usernames: Record<string, string> }
  endpoints: TokenEndpoints
  notice?: string
}): string {
  const { view, activity } = options
  const id = encodeURIComponent(view.client.id)
  const type = appTypeOf(view)
  const publicClient = view.client.tokenEndpointAuthMethod === 'none'
  const keyClient = view.client.tokenEndpointAuthMethod === 'private_key_jwt'
  const kids = (view.client.jwks?.keys ?? []).map((key, index) => (typeof key.kid === 'string' ? key.kid : `key ${index + 1} (${String(key.kty)})`))
  return page({
    title: view.client.name,
    header: header(options.username, options.csrf),
    script: 'console.js',
    body: html`<p><a href="/console">← Applications</a></p>
<div class="actions spread"><h1>${view.client.name}</h1><a class="button" href="/console/apps/${id}/edit">Edit</a></div>
${options.notice ? html`<div class="alert success" role="status">${options.notice}</div>` : ''}
<div class="card">
<dl class="facts">
<dt>Client ID</dt><dd><div class="secret inline"><code class="value" id="client-id">${view.client.id}</code><button type="button" data-copy="client-id" hidden>Copy</button></div></dd>
<dt>Application type</dt><dd>${APP_TYPE_LABELS[type].label}</dd>
<dt>Client secret</dt><dd>${view.app.kind === 'api_key' ? 'None: the API key stands for it' : publicClient ? 'None: a public application (PKCE instead)' : keyClient ? 'None: private key JWT (your own key)' : 'Set (shown only when created or rotated)'}</dd>
${keyClient ? html`<dt>Public keys</dt><dd class="mono" id="public-keys">${view.client.jwksUri !== null ? view.client.jwksUri : kids.map((kid) => html`<div>${kid}</div>`)}</dd>` : ''}
${view.client.redirectUris.length > 0 ? html`<dt>Redirect URIs</dt><dd class="mono">${view.client.redirectUris.map((uri) => html`<div>${uri}</div>`)}</dd>` : ''}
${view.apiKey ? html`<dt>API key id</dt><dd class="mono">${view.apiKey.id}</dd>` : ''}
<dt>Scopes</dt><dd class="mono">${(view.apiKey?.scopes ?? view.client.scopes).join(' ') || '—'}</dd>
<dt>Token format</dt><dd>${view.client.tokenFormat === 'jwt' ? 'JWT' : 'Opaque'}</dd>
<dt>Token lifetime</dt><dd>${view.client.accessTokenTtl} s</dd>
<dt>Created</dt><dd>${when(view.app.createdAt)}</dd>
</dl>
</div>
${
  signsIn(type)
    ? html`<h2>Sign people in</h2><div class="card">${signInFacts(view, type, options.endpoints, false)}</div>`
    : html`<h2>Get a token</h2><div class="card">${tokenSnippets(view, type, options.endpoints)}</div>`
}
<h2>Token activity</h2>
<div class="card">
<p><strong id="tokens-issued">${activity.issued}</strong> token${activity.issued === 1 ? '' : 's'} issued${activity.lastIssuedAt !== null ? html`, the last at ${when(activity.lastIssuedAt)}` : ''}.</p>
${
  Object.keys(activity.byGrant).length > 0
    ? html`<ul class="usage" id="tokens-by-grant">${Object.entries(activity.byGrant).map(([grant, count]) => html`<li><span>${GRANT_LABELS[grant] ?? grant}</span><strong>${count}</strong></li>`)}</ul>`
    : ''
}
<p class="muted small">Counted on every Gatehouse instance and kept across restarts; each instance adds its counts every few seconds.</p>
${
  activity.events.length === 0
    ? html`<p class="muted">No recorded events.</p>`
    : stackedTable(['When', 'Event', 'By', 'From', 'Reason'], activity.events.map((event) => eventRow(event, activity.usernames)))
}
</div>
<h2>Manage</h2>
<div class="card actions">
${
  publicClient || keyClient
    ? ''
    : html`<form method="post" action="/console/apps/${id}/rotate" data-confirm="Rotate the secret? The current one stops working at once.">
<input type="hidden" name="_csrf" value="${options.csrf}">
<button type="submit">${view.app.kind === 'api_key' ? 'Rotate API key' : 'Rotate secret'}</button>
</form>`
}
<form method="post" action="/console/apps/${id}/delete" data-confirm="Delete this application? Its credentials and tokens stop working.">
<input type="hidden" name="_csrf" value="${options.csrf}">
<button class="danger" type="submit">Delete application</button>
</form>
</div>`,
  })
}

export function messagePage(options: { title: string; message: string; username?: string; csrf?: string }): string {
  return page({
    title: options.title,
    ...(options.username && options.csrf ? { header: header(options.username, options.csrf) } : {}),
    body: html`<div class="card narrow"><h1>${options.title}</h1><p>${options.message}</p><p><a href="/console">Back to the console</a></p></div>`,
  })
}
