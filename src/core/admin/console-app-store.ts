/** Port: which user owns a console-created client. The core owns it; the store (src/store) implements it. */
/** Which user owns a client created in the developer console (a separate table: clients stay owner-less). */
export interface ConsoleApp {
  clientId: string
  ownerUserId: string
  /** What the console created: a client with a secret, or a client used through one API key. */
  kind: 'client' | 'api_key'
  apiKeyId: string | null
  createdAt: number
}

export interface ConsoleAppStore {
  insertConsoleApp(app: ConsoleApp): Promise<void>
  getConsoleApp(clientId: string): Promise<ConsoleApp | undefined>
  listConsoleApps(ownerUserId: string): Promise<ConsoleApp[]>
  deleteConsoleApp(clientId: string): Promise<boolean>
}
