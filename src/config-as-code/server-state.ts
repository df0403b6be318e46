import type { ClientView } from '../core/admin/client-admin.js'
import type { UserDirectory } from '../core/config-as-code/client-fields.js'
import type { Declaration } from '../core/config-as-code/declaration.js'
import type { CurrentState } from '../core/config-as-code/plan.js'
import type { Gatehouse } from '../gatehouse.js'

type Admin = Pick<Gatehouse, 'clients' | 'apis' | 'operators' | 'users'>

/** Every client, page by page. */
async function allClients(gatehouse: Admin): Promise<ClientView[]> {
  const clients: ClientView[] = []
  for (;;) {
    const last = clients.at(-1)
    const page = await gatehouse.clients.list({ limit: 500, ...(last ? { after: last.id } : {}) })
    clients.push(...page)
    if (page.length < 500) return clients
  }
}

/**
 * The users a declaration and the server's state name (operators, clients' allowedUsers), and
 * no others: the user table may be large, and apply never changes users.
 */
async function userDirectory(gatehouse: Admin, refs: Iterable<string>): Promise<UserDirectory> {
  const ids = new Map<string, string>()
  const usernames = new Map<string, string>()
  for (const ref of new Set(refs)) {
    const user = await gatehouse.users.find(ref)
    if (!user) continue
    ids.set(ref, user.id)
    usernames.set(user.id, user.username)
  }
  return { idOf: (ref) => ids.get(ref), usernameOf: (id) => usernames.get(id) }
}

/** What the server holds now, for the planner; `secret(name)` reads a declared client's secret. */
export async function readServerState(gatehouse: Admin, declaration: Declaration, options: { dialects: Record<string, unknown>; secret: (variable: string) => string }): Promise<CurrentState> {
  const [clients, apis, operators] = await Promise.all([allClients(gatehouse), gatehouse.apis.list(), gatehouse.operators.list()])
  const refs: string[] = [
    ...operators.filter((entry) => entry.kind === 'user').map((entry) => entry.id),
    ...clients.flatMap((client) => client.allowedUsers ?? []),
    ...(declaration.operators ?? []).flatMap((entry) => ('user' in entry ? [entry.user] : [])),
    ...(declaration.clients ?? []).flatMap((client) => (Array.isArray(client.allowedUsers) ? (client.allowedUsers as unknown[]).filter((ref): ref is string => typeof ref === 'string') : [])),
  ]
  const existing = new Set(clients.map((client) => client.id))
  const secretsMatch = new Map<string, boolean>()
  for (const client of declaration.clients ?? []) {
    if (client.secretFromEnv === undefined || !existing.has(client.id)) continue
    secretsMatch.set(client.id, await gatehouse.clients.secretMatches(client.id, options.secret(client.secretFromEnv)))
  }
  return { clients, apis, operators, users: await userDirectory(gatehouse, refs), secretsMatch, dialects: options.dialects }
}
