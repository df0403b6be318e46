import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

/**
 * Signing keys are stored encrypted with AES-256-GCM under a key-encryption key (KEK)
 * derived from the operator's secret with HKDF-SHA256, so a copy of the database alone
 * does not yield the private keys. Format: `v1.<iv>.<tag>.<ciphertext>`, base64url parts.
 */
export class KeyEncryption {
  readonly #kek: Buffer

  constructor(secret: string) {
    if (secret.length < 16) throw new Error('GATEHOUSE_SECRET must be at least 16 characters')
    this.#kek = Buffer.from(hkdfSync('sha256', secret, 'gatehouse', 'signing-key-encryption v1', 32))
  }

  encrypt(plaintext: string, associatedData: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#kek, iv)
    // The kid is bound as associated data, so a ciphertext cannot be moved to another key row.
    cipher.setAAD(Buffer.from(associatedData, 'utf8'))
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.')
  }

  /** Throws if the text was not encrypted under this KEK (wrong GATEHOUSE_SECRET) or was altered. */
  decrypt(encrypted: string, associatedData: string): string {
    const [version, iv, tag, ciphertext] = encrypted.split('.')
    if (version !== 'v1' || !iv || !tag || ciphertext === undefined) throw new Error('unrecognised encrypted key format')
    const decipher = createDecipheriv('aes-256-gcm', this.#kek, Buffer.from(iv, 'base64url'))
    decipher.setAAD(Buffer.from(associatedData, 'utf8'))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8')
  }
}
