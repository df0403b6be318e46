/** Port: the API and scope registry. The core owns it; the store (src/store) implements it. */

/** A scope of a registered API. Scope names are unique across the whole registry. */
export interface ApiScope {
  name: string
  /** What the scope lets a token do, in words a person can read (a consent page shows it). */
  description: string
  /** True: a developer may take it for a console application. False (the default): only an operator grants it. */
  selfService: boolean
}

/** A resource server Gatehouse issues tokens for (RFC 8707's "resource"). */
export interface Api {
  id: string
  /** An absolute URL, unique: the `aud` of tokens for this API. */
  identifier: string
  name: string
  /** In the order the operator gave them. */
  scopes: ApiScope[]
  createdAt: number
  updatedAt: number
}

export interface ApiStore {
  /** Every API with its scopes, by identifier. The registry is small and read whole into memory. */
  listApis(): Promise<Api[]>
  getApi(id: string): Promise<Api | undefined>
  getApiByIdentifier(identifier: string): Promise<Api | undefined>
  /** Fails with `DuplicateError` if the id or identifier exists, or a scope name belongs to any API. */
  insertApi(api: Api): Promise<void>
  /**
   * Replaces the API's identifier, name and whole scope list (not its creation time), at once.
   * Fails with `DuplicateError`, changing nothing, if the identifier or a scope name belongs to another API.
   */
  updateApi(api: Api): Promise<void>
  /** Returns false when there was no such API. Its scopes go with it. */
  deleteApi(id: string): Promise<boolean>
}
