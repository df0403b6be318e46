import type { SigningAlg } from '../types.js'

/** Port: signing keys, shared by every instance (the key ring). The core owns it; the store (src/store) implements it. */
export interface SigningKeyRecord {
  kid: string
  alg: SigningAlg
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
   * Adds `key` as the active key of its algorithm and retires every other active key of that
   * algorithm at `key.createdAt` (keys of the other algorithm stay as they are), atomically, so
   * two instances rotating at once still leave exactly one active key per algorithm.
   */
  rotateSigningKey(key: SigningKeyRecord): Promise<void>
  /**
   * Inserts `key` only if no active key of `key.alg` exists yet; returns whether it was inserted
   * (first start of a cluster, or the first start after an upgrade that added the algorithm).
   * Of instances racing to insert, exactly one wins per algorithm.
   */
  insertFirstSigningKey(key: SigningKeyRecord): Promise<boolean>
  deleteSigningKeysRetiredBefore(at: number): Promise<number>
}
