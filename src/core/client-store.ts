import type { Client } from './types.js'

/** Port: the client records the client cache and admin read and write. The core owns it; the store (src/store) implements it. */
export interface ClientStore {
  getClient(id: string): Promise<Client | undefined>
  /** Fails with `DuplicateError` if the id exists. */
  insertClient(client: Client): Promise<void>
  updateClient(client: Client): Promise<void>
  /** Returns false when there was no such client. Its refresh families go with it. */
  deleteClient(id: string): Promise<boolean>
  listClients(page: { limit: number; after?: string }): Promise<Client[]>
}
