import type { UserStore } from '../credentials/user-store.js'
import { endGrants } from '../grant-ending.js'
import type { GrantEndReason, GrantStore } from '../tokens/token-store.js'
import type { Clock } from '../clock.js'
import { hashPassword } from '../credentials/password.js'
import type { Random } from '../random.js'
import type { User } from '../types.js'
import type { SignInSessionStore } from '../authorization/sign-in-session-store.js'

export type UserView = Omit<User, 'passwordHash'>

export class UserValidationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UserValidationError'
  }
}

const EMAIL = /^[^\s@]+@[^\s@]+$/

export function viewUser(user: User): UserView {
  const { passwordHash: _passwordHash, ...view } = user
  return view
}

function checkPassword(password: string): void {
  // NIST SP 800-63B §5.1.1.2: at least 8 characters; no composition rules.
  if (password.length < 8) throw new UserValidationError('password must be at least 8 characters')
  if (password.length > 1024) throw new UserValidationError('password must be at most 1024 characters')
}

type Deps = { store: UserStore & Pick<GrantStore, 'endGrants'> & Pick<SignInSessionStore, 'endSignInSessions'>; clock: Clock; random: Random }

/** Users for the password grant. Passwords are stored as argon2id hashes only. */
export class UserAdmin {
  readonly #deps: Deps
  constructor(deps: Deps) {
    this.#deps = deps
  }

  async create(input: { username: string; password: string; name?: string | null }): Promise<UserView> {
    const username = input.username.trim().toLowerCase()
    if (!EMAIL.test(username)) throw new UserValidationError('username must be an email address')
    checkPassword(input.password)
    const user: User = {
      id: this.#deps.random.uuid(),
      username,
      passwordHash: await hashPassword(input.password),
      name: input.name ?? null,
      email: username,
      disabled: false,
      createdAt: this.#deps.clock.now(),
    }
    await this.#deps.store.insertUser(user)
    return viewUser(user)
  }

  /** Finds a user by id or username. */
  async find(idOrUsername: string): Promise<User | undefined> {
    return (await this.#deps.store.getUser(idOrUsername)) ?? (await this.#deps.store.getUserByUsername(idOrUsername.trim().toLowerCase()))
  }

  async list(page: { limit: number; after?: string }): Promise<UserView[]> {
    return (await this.#deps.store.listUsers(page)).map(viewUser)
  }

  async setPassword(idOrUsername: string, password: string): Promise<UserView | undefined> {
    checkPassword(password)
    const user = await this.find(idOrUsername)
    if (!user) return undefined
    const updated = { ...user, passwordHash: await hashPassword(password) }
    await this.#deps.store.updateUser(updated)
    // A new password ends what the old one granted (a thief's refresh tokens included).
    await this.#endGrants(user.id, 'password_changed')
    return viewUser(updated)
  }

  async setDisabled(idOrUsername: string, disabled: boolean): Promise<UserView | undefined> {
    const user = await this.find(idOrUsername)
    if (!user) return undefined
    const updated = { ...user, disabled }
    await this.#deps.store.updateUser(updated)
    if (disabled) await this.#endGrants(user.id, 'user_disabled')
    return viewUser(updated)
  }

  async delete(idOrUsername: string): Promise<boolean> {
    const user = await this.find(idOrUsername)
    if (!user) return false
    await this.#endGrants(user.id, 'user_deleted')
    return this.#deps.store.deleteUser(user.id)
  }

  /**
   * Every grant the user gave, with every client, ends (core/grant-ending.ts), and so does every
   * sign-in session of the hosted pages: a browser signed in before cannot mint a new grant.
   */
  async #endGrants(userId: string, reason: GrantEndReason): Promise<number> {
    await this.#deps.store.endSignInSessions({ userId }, this.#deps.clock.now())
    return endGrants({ grants: this.#deps.store, clock: this.#deps.clock }, { subject: userId }, reason)
  }

  /** Ends every grant the user gave, with every client: their tokens stop working at once. Undefined when there is no such user. */
  async endSessions(idOrUsername: string): Promise<{ user: UserView; ended: number } | undefined> {
    const user = await this.find(idOrUsername)
    if (!user) return undefined
    const ended = await this.#endGrants(user.id, 'sessions_ended')
    return { user: viewUser(user), ended }
  }
}
