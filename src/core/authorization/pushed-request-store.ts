/**
 * A pushed authorization request (RFC 9126): the parameters a client sent to `/oauth/par`,
 * kept under the digest of the random part of its `request_uri` until it expires or a code is
 * issued from it (§4: one-time use; reloading the sign-in page before that is allowed).
 */
export interface PushedRequestRecord {
  /** SHA-256 (hex) of the request_uri's random part. */
  digest: string
  clientId: string
  /** The authorization request's parameters, as sent. */
  parameters: Record<string, string>
  createdAt: number
  expiresAt: number
  usedAt: number | null
}

/** Port: pushed authorization requests. The core owns it; the store (src/store) implements it. */
export interface PushedRequestStore {
  insertPushedRequest(request: PushedRequestRecord): Promise<void>
  findPushedRequest(digest: string): Promise<PushedRequestRecord | undefined>
  /** Marks it used; true only for the first call. */
  usePushedRequest(digest: string, at: number): Promise<boolean>
}
