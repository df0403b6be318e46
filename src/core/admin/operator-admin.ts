import type { ClientStore } from '../client-store.js'
import type { Clock } from '../clock.js'
import type { UserStore } from '../credentials/user-store.js'
import { OPERATOR_KINDS, OPERATOR_ROLES, type OperatorKind, type OperatorRecord, type OperatorRole, type OperatorStore } from './operator-store.js'

export class OperatorValidationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'OperatorValidationError'
  }
}

type Deps = {
  store: OperatorStore & Pick<UserStore, 'getUser' | 'getUserByUsername'> & Pick<ClientStore, 'getClient'>
  clock: Clock
}

/** The operator list as operators change it (CLI, management API): only existing users and clients. */
export class OperatorAdmin {
  readonly #deps: Deps
  constructor(deps: Deps) {
    this.#deps = deps
  }

  list(): Promise<OperatorRecord[]> {
    return this.#deps.store.listOperators()
  }

  /** The id of an existing user (by id or username) or client (by id); undefined when there is none. */
  async resolve(kind: OperatorKind, idOrUsername: string): Promise<string | undefined> {
    if (kind === 'client') return (await this.#deps.store.getClient(idOrUsername))?.id
    const user = (await this.#deps.store.getUser(idOrUsername)) ?? (await this.#deps.store.getUserByUsername(idOrUsername.trim().toLowerCase()))
    return user?.id
  }

  /** Puts an existing user or client on the list with `role` (or changes its role); undefined when it does not exist. */
  async put(kind: OperatorKind, idOrUsername: string, role: OperatorRole): Promise<{ operator: OperatorRecord; previous: OperatorRecord | undefined } | undefined> {
    checkKind(kind)
    if (!OPERATOR_ROLES.includes(role)) throw new OperatorValidationError(`role must be one of ${OPERATOR_ROLES.join(', ')} (got "${role}")`)
    const id = await this.resolve(kind, idOrUsername)
    if (id === undefined) return undefined
    return this.#deps.store.putOperator({ kind, id, role, createdAt: this.#deps.clock.now() })
  }

  /** Takes an identity off the list; its tokens stop working at the next request. Undefined when it was not on it. */
  async remove(kind: OperatorKind, idOrUsername: string): Promise<OperatorRecord | undefined> {
    checkKind(kind)
    // The entry may name a user that no longer resolves by username: try the id as given too.
    const id = (await this.resolve(kind, idOrUsername)) ?? idOrUsername
    const entry = await this.#deps.store.getOperator(kind, id)
    if (!entry) return undefined
    return (await this.#deps.store.deleteOperator(kind, id)) ? entry : undefined
  }
}

function checkKind(kind: OperatorKind): void {
  if (!OPERATOR_KINDS.includes(kind)) throw new OperatorValidationError(`kind must be one of ${OPERATOR_KINDS.join(', ')} (got "${kind}")`)
}
