/** Port: signing keys, shared by every instance (the key ring). The core owns it; the store (src/store) implements it. */
export interface SigningKeyRecord {
  kid: string
  alg: 'ES256'
  /** Public JWK as JSON text. */
  publicJwk: string
  /** Private JWK, AES-256-GCM encrypted under the key-encryption key (see core/tokens/key-encryption.ts). */
  privateJwkEncrypted: string
  createdAt: number
  /** Set when a newer key took over; the key stays published until `retiredAt` + the longest token lifetime. */
  retiredAt: number | null
}

export interface SigningKeyStore {
  listSigningKeys(): Promise<SigningKeyRecord[]>
  /**
   * Adds `key` as the active key and retires every other active key at `key.createdAt`,
   * atomically, so two instances rotating at once still leave exactly one active key.
   */
  rotateSigningKey(key: SigningKeyRecord): Promise<void>
  /** Inserts `key` only if no key exists yet; returns whether it was inserted (first start of a cluster). */
  insertFirstSigningKey(key: SigningKeyRecord): Promise<boolean>
  deleteSigningKeysRetiredBefore(at: number): Promise<number>
}
