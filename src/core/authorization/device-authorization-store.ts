import type { ConsumeResult } from '../tokens/token-store.js'

export type DeviceAuthorizationStatus = 'pending' | 'approved' | 'denied'

/**
 * A device authorization (RFC 8628 §3.2): the device polls with its `device_code`, the person
 * types the `user_code` into `/device`. Both are stored as digests.
 */
export interface DeviceAuthorizationRecord {
  /** SHA-256 (hex) of the device_code. */
  deviceCodeDigest: string
  /** SHA-256 (hex) of the normalized user code (8 letters, no dash, upper case). */
  userCodeDigest: string
  clientId: string
  /** The scopes requested, space-delimited; narrowed to the ones allowed on approval. */
  scope: string
  audience: string | null
  status: DeviceAuthorizationStatus
  /** Set on approval or denial. */
  userId: string | null
  sessionId: string | null
  authTime: number | null
  /** Seconds the device must wait between polls (§3.5: `slow_down` adds 5). */
  interval: number
  lastPolledAt: number | null
  createdAt: number
  expiresAt: number
  /** When the device exchanged it for tokens; null before. */
  usedAt: number | null
  grantId: string | null
}

export interface DeviceDecision {
  status: 'approved' | 'denied'
  userId: string
  sessionId: string
  authTime: number
  /** The scopes the person allowed (approval). */
  scope: string
}

/** Port: device authorizations. The core owns it; the store (src/store) implements it. */
export interface DeviceAuthorizationStore {
  insertDeviceAuthorization(record: DeviceAuthorizationRecord): Promise<void>
  findDeviceAuthorization(deviceCodeDigest: string): Promise<DeviceAuthorizationRecord | undefined>
  findDeviceAuthorizationByUserCode(userCodeDigest: string): Promise<DeviceAuthorizationRecord | undefined>
  /** Approves or denies a pending, unexpired authorization; false when it was not pending (or is gone). */
  decideDeviceAuthorization(userCodeDigest: string, decision: DeviceDecision, at: number): Promise<boolean>
  /**
   * Records a poll at `at` and returns the previous poll's time (null for the first), in one
   * statement, so two instances polled at once see each other (§3.5 slow_down). With
   * `interval`, also stores the device's new interval.
   */
  recordDevicePoll(deviceCodeDigest: string, at: number, interval?: number): Promise<number | null>
  /** Marks an approved authorization redeemed with its grant; exactly one concurrent call gets 'consumed'. */
  consumeDeviceAuthorization(deviceCodeDigest: string, at: number, grantId: string): Promise<ConsumeResult>
}
