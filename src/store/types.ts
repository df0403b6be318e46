import type { ApiKeyStore } from '../core/credentials/api-key-store.js'
import type { UserStore } from '../core/credentials/user-store.js'
import type { AuditStore } from '../core/audit/audit-store.js'
import type { ConsoleAppStore } from '../core/admin/console-app-store.js'
import type { OperatorStore } from '../core/admin/operator-store.js'
import type { ClientStore } from '../core/client-store.js'
import type { ApiStore } from '../core/apis/api-store.js'
import type { HousekeepingStore } from '../core/housekeeping-store.js'
import type { SigningKeyStore } from '../core/tokens/signing-key-store.js'
import type { AccessTokenStore, GrantStore, RefreshTokenStore } from '../core/tokens/token-store.js'
import type { AuthorizationCodeStore } from '../core/authorization/authorization-code-store.js'
import type { SignInSessionStore } from '../core/authorization/sign-in-session-store.js'
import type { ConsentStore } from '../core/authorization/consent-store.js'
import type { PushedRequestStore } from '../core/authorization/pushed-request-store.js'
import type { DpopReplayStore } from '../core/dpop/dpop-proof.js'
import type { DeviceAuthorizationStore } from '../core/authorization/device-authorization-store.js'
import type { AssertionJtiStore } from '../core/credentials/assertion-jti-store.js'
import type { ClientUsageStore } from '../core/audit/client-usage-store.js'

/**
 * The store: one implementation (src/store/kysely-store.ts, on SQLite and PostgreSQL) of
 * every port the core declares. Times are milliseconds since the epoch. Secrets and tokens
 * arrive here only as digests.
 */
export interface Store
  extends ClientStore,
    UserStore,
    ApiKeyStore,
    SigningKeyStore,
    GrantStore,
    RefreshTokenStore,
    AccessTokenStore,
    AuditStore,
    ConsoleAppStore,
    ClientUsageStore,
    OperatorStore,
    ApiStore,
    AuthorizationCodeStore,
    SignInSessionStore,
    ConsentStore,
    PushedRequestStore,
    DeviceAuthorizationStore,
    AssertionJtiStore,
    DpopReplayStore,
    HousekeepingStore {
  readonly kind: 'sqlite' | 'postgres'
  /** Applies pending migrations; returns the names it applied. */
  migrate(): Promise<string[]>
  /** Resolves when the database answers; rejects otherwise. */
  ping(): Promise<void>
  close(): Promise<void>
}
