import { createHash, randomUUID } from 'node:crypto'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'

/** A DPoP key pair and a proof maker (RFC 9449 §4.2), for tests that play the client or the attacker. */
export interface DpopTestKey {
  publicJwk: JWK
  privateKey: CryptoKey
  proof(input: { htm: string; htu: string; accessToken?: string; nonce?: string; iat?: number; jti?: string; header?: Record<string, unknown>; claims?: Record<string, unknown> }): Promise<string>
}

export async function dpopKey(alg: 'ES256' | 'RS256' | 'PS256' | 'EdDSA' = 'ES256'): Promise<DpopTestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk = await exportJWK(publicKey)
  return {
    publicJwk,
    privateKey,
    async proof(input) {
      const claims: Record<string, unknown> = { htm: input.htm, htu: input.htu, jti: input.jti ?? randomUUID(), iat: input.iat ?? Math.floor(Date.now() / 1000) }
      if (input.accessToken !== undefined) claims.ath = createHash('sha256').update(input.accessToken).digest('base64url')
      if (input.nonce !== undefined) claims.nonce = input.nonce
      return new SignJWT({ ...claims, ...input.claims }).setProtectedHeader({ typ: 'dpop+jwt', alg, jwk: publicJwk, ...input.header } as never).sign(privateKey)
    },
  }
}

/** An unsigned `alg: none` JWS with the given header and claims. */
export function unsignedProof(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part(header)}.${part(claims)}.`
}
