import type { User } from '../types.js'

/** Port: user records (password grant, userinfo, user admin). The core owns it; the store (src/store) implements it. */
export interface UserStore {
  getUserByUsername(username: string): Promise<User | undefined>
  getUser(id: string): Promise<User | undefined>
  insertUser(user: User): Promise<void>
  updateUser(user: User): Promise<void>
  deleteUser(id: string): Promise<boolean>
  listUsers(page: { limit: number; after?: string }): Promise<User[]>
}
