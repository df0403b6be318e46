import type { ApiKeyView } from '../../../core/admin/api-key-admin.js'
import type { ClientView } from '../../../core/admin/client-admin.js'
import type { OperatorRole } from '../../../core/admin/operator-store.js'
import type { UserView } from '../../../core/admin/user-admin.js'
import type { AuditEvent } from '../../../core/audit/audit-store.js'
import type { SigningKeyDescription } from '../../../core/tokens/key-ring.js'
import { html, page, stackedTable, type Html } from './html.js'
import { header } from './pages.js'

/** The operator section's pages: lists without secrets, the audit log, and unlocking a user. */
export const OPERATOR_PATH = '/console/operator'

const when = (ms: number | null): string => (ms === null ? '—' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))

export type OperatorTab = 'clients' | 'users' | 'api-keys' | 'signing-keys' | 'audit'
const TABS: readonly [OperatorTab, string][] = [
  ['clients', 'Applications'],
  ['users', 'Users'],
  ['api-keys', 'API keys'],
  ['signing-keys', 'Signing keys'],
  ['audit', 'Audit log'],
]

export interface OperatorPage {
  username: string
  csrf: string
  role: OperatorRole
  notice?: string
  error?: string
}

function layout(options: OperatorPage & { tab: OperatorTab; title: string; body: Html }): string {
  const tabs = TABS.map(([tab, label]) => html`<a href="${OPERATOR_PATH}/${tab}"${tab === options.tab ? html` aria-current="page"` : ''}>${label}</a>`)
  return page({
    title: `${options.title} · Operator`,
    header: header(options.username, options.csrf, true),
    area: 'operator console',
    mainClass: 'operator',
    body: html`<div class="actions spread"><h1>${options.title}</h1><span class="badge" id="operator-role">${options.role === 'admin' ? 'admin' : 'read-only'}</span></div>
<nav class="tabs-nav" aria-label="Operator">${tabs}</nav>
${options.notice ? html`<div class="alert success" role="status">${options.notice}</div>` : ''}
${options.error ? html`<div class="alert error" role="alert">${options.error}</div>` : ''}
${options.body}`,
  })
}

/** "Next page" for a list paged by id. */
function nextLink(tab: OperatorTab, after: string | undefined, extra: Record<string, string> = {}): Html {
  if (after === undefined) return html``
  const query = new URLSearchParams({ ...extra, after }).toString()
  return html`<p class="pager"><a class="button" href="${OPERATOR_PATH}/${tab}?${query}" rel="next">Next page</a></p>`
}

function table(headings: string[], rows: Html[], empty: string): Html {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`
  return stackedTable(headings, rows)
}

export function operatorClientsPage(options: OperatorPage & { clients: ClientView[]; owners: Record<string, string>; next?: string }): string {
  const rows = options.clients.map(
    (client) => html`<tr><td>${client.name}</td><td class="mono">${client.id}</td><td>${client.applicationType ?? '—'}</td><td class="mono">${client.grantTypes.join(' ')}</td><td class="mono">${client.scopes.join(' ') || '—'}</td><td>${options.owners[client.id] ?? '—'}</td><td>${when(client.createdAt)}</td></tr>`,
  )
  return layout({
    ...options,
    tab: 'clients',
    title: 'Applications',
    body: html`<div class="card">${table(['Name', 'Client ID', 'Type', 'Grants', 'Scopes', 'Console owner', 'Created'], rows, 'No applications.')}${nextLink('clients', options.next)}</div>`,
  })
}

export function operatorUsersPage(options: OperatorPage & { users: UserView[]; next?: string }): string {
  const admin = options.role === 'admin'
  const rows = options.users.map(
    (user) => html`<tr><td>${user.username}</td><td>${user.name ?? '—'}</td><td class="mono">${user.id}</td><td>${user.disabled ? html`<span class="badge danger">disabled</span>` : 'active'}</td><td>${when(user.createdAt)}</td><td>${
      admin
        ? html`<form method="post" action="${OPERATOR_PATH}/users/${encodeURIComponent(user.id)}/unlock" data-confirm="Unlock ${user.username}? Failed sign-ins are forgotten and any lockout ends, from every address."><input type="hidden" name="_csrf" value="${options.csrf}"><button type="submit" aria-label="Unlock ${user.username}">Unlock</button></form>`
        : html`<span class="muted">admin role only</span>`
    }</td></tr>`,
  )
  return layout({
    ...options,
    tab: 'users',
    title: 'Users',
    body: html`<p class="muted">Unlock forgets a user's failed sign-ins and ends any lockout (GATEHOUSE_LOCKOUT), from every address, so they may sign in again at once.</p>
<div class="card">${table(['Username', 'Name', 'User ID', 'Status', 'Created', 'Lockout'], rows, 'No users.')}${nextLink('users', options.next)}</div>`,
  })
}

export function operatorApiKeysPage(options: OperatorPage & { keys: ApiKeyView[]; next?: string; now: number }): string {
  const status = (key: ApiKeyView): string => (key.revokedAt !== null ? `revoked ${when(key.revokedAt)}` : key.expiresAt !== null && key.expiresAt <= options.now ? `expired ${when(key.expiresAt)}` : 'active')
  const rows = options.keys.map(
    (key) => html`<tr><td class="mono">${key.id}</td><td>${key.name}</td><td class="mono">${key.clientId}</td><td class="mono">${key.scopes.join(' ') || '—'}</td><td>${status(key)}</td><td>${when(key.createdAt)}</td></tr>`,
  )
  return layout({
    ...options,
    tab: 'api-keys',
    title: 'API keys',
    body: html`<p class="muted">Key ids only: Gatehouse keeps a digest of each secret, never the secret.</p>
<div class="card">${table(['Key ID', 'Name', 'Client ID', 'Scopes', 'Status', 'Created'], rows, 'No API keys.')}${nextLink('api-keys', options.next)}</div>`,
  })
}

export function operatorSigningKeysPage(options: OperatorPage & { keys: SigningKeyDescription[] }): string {
  const rows = options.keys.map(
    (key) => html`<tr><td class="mono">${key.kid}</td><td>${key.alg}</td><td>${key.active ? html`<span class="badge">active</span>` : key.published ? 'retired, still published' : 'retired'}</td><td>${when(key.createdAt)}</td><td>${when(key.retiredAt)}</td></tr>`,
  )
  return layout({
    ...options,
    tab: 'signing-keys',
    title: 'Signing keys',
    body: html`<p class="muted">Public facts only. The active key of each algorithm signs; a retired key stays published until the tokens it signed have expired. Rotate with <code>gatehouse keys rotate</code> or the management API.</p>
<div class="card">${table(['Key ID (kid)', 'Algorithm', 'State', 'Created', 'Retired'], rows, 'No signing keys.')}</div>`,
  })
}

/** The audit log's filter form, as typed. */
export interface AuditFilterForm {
  action: string
  client: string
  user: string
  from: string
  to: string
}

export function operatorAuditPage(options: OperatorPage & { form: AuditFilterForm; events: AuditEvent[]; usernames: Record<string, string>; next?: string }): string {
  const { form } = options
  const who = (subject: string | null): string => {
    if (subject === null) return '—'
    if (!subject.startsWith('user:')) return subject
    const name = options.usernames[subject.slice('user:'.length)]
    return name ? `${name} (user)` : subject
  }
  const detail = (event: AuditEvent): string => {
    const entries = Object.entries(event.details).map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    return entries.join(', ')
  }
  const rows = options.events.map((event) => html`<tr><td>${when(event.at)}</td><td class="mono">${event.action}</td><td>${who(event.actor)}</td><td>${who(event.target)}</td><td>${event.ip ?? ''}</td><td class="details">${detail(event)}</td></tr>`)
  const filters = Object.fromEntries(Object.entries(form).filter(([, value]) => value !== ''))
  return layout({
    ...options,
    tab: 'audit',
    title: 'Audit log',
    body: html`<form method="get" action="${OPERATOR_PATH}/audit" class="card filters" id="audit-filters">
<label class="field"><span>Event type</span><input name="action" value="${form.action}" placeholder="e.g. user.authentication_failed" list="audit-actions"></label>
<label class="field"><span>Application (Client ID)</span><input name="client" value="${form.client}" spellcheck="false" autocapitalize="off"></label>
<label class="field"><span>User (username or id)</span><input name="user" value="${form.user}" spellcheck="false" autocapitalize="off"></label>
<label class="field"><span>From (UTC)</span><input name="from" type="datetime-local" value="${form.from}"></label>
<label class="field"><span>To (UTC)</span><input name="to" type="datetime-local" value="${form.to}"></label>
<div class="actions"><button class="primary" type="submit">Filter</button><a href="${OPERATOR_PATH}/audit">Clear</a></div>
<datalist id="audit-actions">${AUDIT_ACTIONS.map((action) => html`<option value="${action}"></option>`)}</datalist>
</form>
<div class="card">${table(['When', 'Event', 'By', 'About', 'From', 'Details'], rows, 'No events match.')}${nextLink('audit', options.next, filters)}</div>`,
  })
}

/** Event types an operator filters by most (docs/management.md lists them all); any other may be typed. */
const AUDIT_ACTIONS = [
  'client.created',
  'client.updated',
  'client.secret_rotated',
  'client.deleted',
  'api_key.created',
  'api_key.revoked',
  'api_key.rotated',
  'user.created',
  'user.unlocked',
  'user.authentication_failed',
  'client.authentication_failed',
  'api_key.authentication_failed',
  'management.authorization_failed',
  'operator.added',
  'operator.removed',
  'signing_key.rotated',
]
