import { createPrivateKey, createPublicKey, generateKeyPair, type JsonWebKey, type KeyObject, type SignKeyObjectInput } from 'node:crypto'
import { promisify } from 'node:util'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { SIGNING_ALGS, type SigningAlg } from '../types.js'
import type { SigningKeyRecord, SigningKeyStore } from './signing-key-store.js'
import type { PublishChange } from '../changes.js'
import type { Clock } from '../clock.js'
import type { KeyEncryption } from './key-encryption.js'

export interface SigningKey {
  kid: string
  alg: SigningAlg
  /**
   * What node:crypto `sign('sha256', …)` takes for this key, prepared once: ES256 asks for the
   * raw r‖s signature JWS uses (RFC 7518 §3.4), RS256 for the default PKCS#1 v1.5 (§3.3).
   */
  signWith: SignKeyObjectInput
  /** base64url of the JWS protected header, computed once per key. */
  encodedHeader: string
}

export interface PublicKeyEntry {
  kid: string
  alg: SigningAlg
  publicKey: KeyObject
  jwk: JWK
}

const generateKeyPairAsync = promisify(generateKeyPair)

/** A new key pair of `alg`: P-256 for ES256, RSA 2048 for RS256 (RFC 7518 §3.3: 2048 bits or larger). */
async function generateKeys(alg: SigningAlg): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  // Asynchronous: an RSA key takes tens of milliseconds, which a rotation on a live server must not block.
  return alg === 'RS256' ? generateKeyPairAsync('rsa', { modulusLength: 2048 }) : generateKeyPairAsync('ec', { namedCurve: 'P-256' })
}

export interface KeyRingOptions {
  /** Longest access token lifetime, in seconds: how long a retired key stays published. */
  maxTokenLifetime: number
  /** How often to re-read keys, so a rotation on another instance is picked up (ms). */
  reloadIntervalMs: number
}

/** Public facts about a key, for operators. */
export interface SigningKeyDescription {
  kid: string
  alg: SigningAlg
  createdAt: number
  retiredAt: number | null
  published: boolean
  active: boolean
}

type Deps = {
  store: SigningKeyStore
  encryption: KeyEncryption
  clock: Clock
  /** Tells other instances to reload at once instead of at their next interval. */
  publish?: PublishChange
}

/**
 * The signing keys every instance shares: one active key per algorithm (ES256 and RS256, RFC
 * 9068 §2.1), the newest unretired key of each. Retired keys stay in the JWKS until every token
 * they signed has expired (RFC 9068 verifiers fetch the JWKS).
 */
export class KeyRing {
  readonly #deps: Deps
  readonly #options: KeyRingOptions
  #active: Partial<Record<SigningAlg, SigningKey>> = {}
  #published = new Map<string, PublicKeyEntry>()
  #jwksJson = '{"keys":[]}'
  #records: SigningKeyRecord[] = []
  #timer: NodeJS.Timeout | undefined

  constructor(deps: Deps, options: KeyRingOptions) {
    this.#deps = deps
    this.#options = options
  }

  /**
   * Loads the keys, creating the first key of each algorithm on the first start of a deployment
   * (and the first RS256 key on the first start after the upgrade that added RS256).
   */
  async init(): Promise<void> {
    const records = await this.#deps.store.listSigningKeys()
    for (const alg of SIGNING_ALGS) {
      if (!records.some((record) => record.alg === alg && record.retiredAt === null)) {
        await this.#deps.store.insertFirstSigningKey(await this.#newRecord(alg))
      }
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
      published.set(record.kid, known ?? { kid: record.kid, alg: record.alg, jwk, publicKey: createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }) })
    }
    // The store lists newest first; the newest unretired key of each algorithm signs.
    const active: Partial<Record<SigningAlg, SigningKey>> = {}
    for (const alg of SIGNING_ALGS) {
      const activeRecord = records.find((record) => record.alg === alg && record.retiredAt === null)
      if (!activeRecord) throw new Error(`no active ${alg} signing key in the store`)
      const current = this.#active[alg]
      active[alg] = current?.kid === activeRecord.kid ? current : this.#importSigningKey(activeRecord)
    }
    this.#active = active
    this.#records = records
    this.#published = published
    this.#jwksJson = JSON.stringify({ keys: [...published.values()].map((entry) => entry.jwk) })
  }

  #importSigningKey(record: SigningKeyRecord): SigningKey {
    const privateJwk = JSON.parse(this.#deps.encryption.decrypt(record.privateJwkEncrypted, record.kid)) as JsonWebKey
    const privateKey = createPrivateKey({ key: privateJwk, format: 'jwk' })
    return {
      kid: record.kid,
      alg: record.alg,
      signWith: record.alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : { key: privateKey },
      encodedHeader: Buffer.from(JSON.stringify({ alg: record.alg, typ: 'at+jwt', kid: record.kid })).toString('base64url'),
    }
  }

  /**
   * Adds a new active key of `alg` (default: of every algorithm); each previous key keeps
   * verifying until its tokens expire. Returns the new kids.
   */
  async rotate(alg?: SigningAlg): Promise<string[]> {
    const kids: string[] = []
    for (const each of alg ? [alg] : SIGNING_ALGS) {
      const record = await this.#newRecord(each)
      await this.#deps.store.rotateSigningKey(record)
      kids.push(record.kid)
    }
    await this.reload()
    await this.#deps.publish?.({ kind: 'signing-keys' })
    return kids
  }

  /** The key that signs `alg` tokens now. */
  active(alg: SigningAlg): SigningKey {
    const key = this.#active[alg]
    if (!key) throw new Error('KeyRing used before init()')
    return key
  }

  /**
   * The public key `kid` names, only if it is one of ours for `alg`: the header's `alg` must be
   * the key's, so a token cannot pick another algorithm for a key (RFC 8725 §3.1, §2.1).
   */
  publicKey(kid: string, alg: string): KeyObject | undefined {
    const entry = this.#published.get(kid)
    return entry && entry.alg === alg ? entry.publicKey : undefined
  }

  /** The JWKS document (RFC 7517), serialised once per reload. */
  get jwksJson(): string {
    return this.#jwksJson
  }

  get publishedCount(): number {
    return this.#published.size
  }

  describe(): SigningKeyDescription[] {
    return this.#records.map((r) => ({
      kid: r.kid,
      alg: r.alg,
      createdAt: r.createdAt,
      retiredAt: r.retiredAt,
      published: this.#published.has(r.kid),
      active: this.#active[r.alg]?.kid === r.kid,
    }))
  }

  async #newRecord(alg: SigningAlg): Promise<SigningKeyRecord> {
    const { publicKey, privateKey } = await generateKeys(alg)
    const publicJwk = publicKey.export({ format: 'jwk' }) as JWK
    const kid = await calculateJwkThumbprint(publicJwk)
    // RFC 7517 §4.2, §4.4: `use` and `alg` tell a verifier what the key is for.
    const published: JWK = { ...publicJwk, kid, alg, use: 'sig' }
    return {
      kid,
      alg,
      publicJwk: JSON.stringify(published),
      privateJwkEncrypted: this.#deps.encryption.encrypt(JSON.stringify(privateKey.export({ format: 'jwk' })), kid),
      createdAt: this.#deps.clock.now(),
      retiredAt: null,
    }
  }
}
