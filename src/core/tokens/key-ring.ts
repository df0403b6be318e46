import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import type { SigningKeyRecord, SigningKeyStore } from './signing-key-store.js'
import type { PublishChange } from '../changes.js'
import type { Clock } from '../clock.js'
import type { KeyEncryption } from './key-encryption.js'

export interface SigningKey {
  kid: string
  privateKey: KeyObject
  /** base64url of the JWS protected header, computed once per key. */
  encodedHeader: string
}

export interface PublicKeyEntry {
  kid: string
  publicKey: KeyObject
  jwk: JWK
}

export interface KeyRingOptions {
  /** Longest access token lifetime, in seconds: how long a retired key stays published. */
  maxTokenLifetime: number
  /** How often to re-read keys, so a rotation on another instance is picked up (ms). */
  reloadIntervalMs: number
}

type Deps = {
  store: SigningKeyStore
  encryption: KeyEncryption
  clock: Clock
  /** Tells other instances to reload at once instead of at their next interval. */
  publish?: PublishChange
}

/**
 * The signing keys every instance shares. The newest unretired key signs; retired keys stay
 * in the JWKS until every token they signed has expired (RFC 9068 verifiers fetch the JWKS).
 */
export class KeyRing {
  readonly #deps: Deps
  readonly #options: KeyRingOptions
  #active: SigningKey | undefined
  #published = new Map<string, PublicKeyEntry>()
  #jwksJson = '{"keys":[]}'
  #records: SigningKeyRecord[] = []
  #timer: NodeJS.Timeout | undefined

  constructor(deps: Deps, options: KeyRingOptions) {
    this.#deps = deps
    this.#options = options
  }

  /** Loads the keys, creating the first one on the first start of a deployment. */
  async init(): Promise<void> {
    if ((await this.#deps.store.listSigningKeys()).length === 0) {
      await this.#deps.store.insertFirstSigningKey(await this.#newRecord())
    }
    await this.reload()
  }

  startReloading(onError: (error: unknown) => void): void {
    this.#timer = setInterval(() => this.reload().catch(onError), this.#options.reloadIntervalMs)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
  }

  async reload(): Promise<void> {
    const records = await this.#deps.store.listSigningKeys()
    const now = this.#deps.clock.now()
    const retention = this.#options.maxTokenLifetime * 1000
    const published = new Map<string, PublicKeyEntry>()
    for (const record of records) {
      if (record.retiredAt !== null && record.retiredAt + retention < now) continue
      const known = this.#published.get(record.kid)
      const jwk = JSON.parse(record.publicJwk) as JWK
      published.set(record.kid, known ?? { kid: record.kid, jwk, publicKey: createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }) })
    }
    // The store lists newest first; the newest unretired key signs.
    const activeRecord = records.find((record) => record.retiredAt === null)
    if (!activeRecord) throw new Error('no active signing key in the store')
    if (this.#active?.kid !== activeRecord.kid) this.#active = this.#importSigningKey(activeRecord)
    this.#records = records
    this.#published = published
    this.#jwksJson = JSON.stringify({ keys: [...published.values()].map((entry) => entry.jwk) })
  }

  #importSigningKey(record: SigningKeyRecord): SigningKey {
    const privateJwk = JSON.parse(this.#deps.encryption.decrypt(record.privateJwkEncrypted, record.kid)) as JsonWebKey
    return {
      kid: record.kid,
      privateKey: createPrivateKey({ key: privateJwk, format: 'jwk' }),
      encodedHeader: Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: record.kid })).toString('base64url'),
    }
  }

  /** Adds a new active key; the previous one keeps verifying until its tokens expire. */
  async rotate(): Promise<string> {
    const record = await this.#newRecord()
    await this.#deps.store.rotateSigningKey(record)
    await this.reload()
    await this.#deps.publish?.({ kind: 'signing-keys' })
    return record.kid
  }

  get active(): SigningKey {
    if (!this.#active) throw new Error('KeyRing used before init()')
    return this.#active
  }

  publicKey(kid: string): KeyObject | undefined {
    return this.#published.get(kid)?.publicKey
  }

  /** The JWKS document (RFC 7517), serialised once per reload. */
  get jwksJson(): string {
    return this.#jwksJson
  }

  get publishedCount(): number {
    return this.#published.size
  }

  describe(): { kid: string; createdAt: number; retiredAt: number | null; published: boolean; active: boolean }[] {
    return this.#records.map((r) => ({
      kid: r.kid,
      createdAt: r.createdAt,
      retiredAt: r.retiredAt,
      published: this.#published.has(r.kid),
      active: this.#active?.kid === r.kid,
    }))
  }

  async #newRecord(): Promise<SigningKeyRecord> {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const publicJwk = publicKey.export({ format: 'jwk' }) as JWK
    const kid = await calculateJwkThumbprint(publicJwk)
    const published: JWK = { ...publicJwk, kid, alg: 'ES256', use: 'sig' }
    return {
      kid,
      alg: 'ES256',
      publicJwk: JSON.stringify(published),
      privateJwkEncrypted: this.#deps.encryption.encrypt(JSON.stringify(privateKey.export({ format: 'jwk' })), kid),
      createdAt: this.#deps.clock.now(),
      retiredAt: null,
    }
  }
}
