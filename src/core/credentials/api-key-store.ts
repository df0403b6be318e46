import type { ApiKey } from '../types.js'

/** Port: API key records (api_key grant, key admin). The core owns it; the store (src/store) implements it. */
export interface ApiKeyStore {
  getApiKey(id: string): Promise<ApiKey | undefined>
  insertApiKey(key: ApiKey): Promise<void>
  /**
   * Sets `revokedAt` and revokes the refresh families the key started, in one transaction;
   * returns false when there was no such key.
   */
  revokeApiKey(id: string, at: number): Promise<boolean>
  listApiKeys(page: { limit: number; after?: string; clientId?: string }): Promise<ApiKey[]>
}
