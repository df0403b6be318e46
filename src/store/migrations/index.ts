import { sql, type Kysely, type Migration } from 'kysely'
import { clientUsage } from './2026-12-02-200-client-usage.js'

/**
 * Migrations, one definition for both databases: Kysely's schema builder emits each
 * dialect's DDL. Times are `bigint` milliseconds (INTEGER affinity on SQLite).
 * Add a migration as a new key; never edit one that has shipped.
 */
export const migrations: Record<string, Migration> = {
  '2026-11-23-001-initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('clients')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('secret_digest', 'text', (c) => c.notNull())
        .addColumn('grant_types', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('default_scopes', 'text', (c) => c.notNull())
        .addColumn('audience', 'text')
        .addColumn('token_format', 'text', (c) => c.notNull())
        .addColumn('access_token_ttl', 'integer', (c) => c.notNull())
        .addColumn('refresh_absolute_ttl', 'integer', (c) => c.notNull())
        .addColumn('refresh_sliding_ttl', 'integer', (c) => c.notNull())
        .addColumn('refresh_reuse_interval', 'integer', (c) => c.notNull())
        .addColumn('rotate_refresh', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute()

      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('email', 'text')
        .addColumn('disabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute()

      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('secret_digest', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('audience', 'text')
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('api_keys_client_id').on('api_keys').column('client_id').execute()

      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('private_jwk_enc', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('retired_at', 'bigint')
        .execute()

      await db.schema
        .createTable('refresh_families')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('refresh_families_expires_at').on('refresh_families').column('expires_at').execute()
      await db.schema.createIndex('refresh_families_client_id').on('refresh_families').column('client_id').execute()

      await db.schema
        .createTable('refresh_tokens')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('family_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('audience', 'text')
        .addColumn('issued_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute()
      await db.schema.createIndex('refresh_tokens_family_id').on('refresh_tokens').column('family_id').execute()
      await db.schema.createIndex('refresh_tokens_expires_at').on('refresh_tokens').column('expires_at').execute()

      await db.schema
        .createTable('opaque_tokens')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('audience', 'text', (c) => c.notNull())
        .addColumn('family_id', 'text')
        .addColumn('issued_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute()
      await db.schema.createIndex('opaque_tokens_expires_at').on('opaque_tokens').column('expires_at').execute()
      await db.schema.createIndex('opaque_tokens_client_id').on('opaque_tokens').column('client_id').execute()

      await db.schema
        .createTable('revoked_jwts')
        .addColumn('jti', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('revoked_jwts_expires_at').on('revoked_jwts').column('expires_at').execute()
    },
  },
  '2026-11-23-006-audit-events-and-console-apps': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('audit_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('ip', 'text')
        .addColumn('details', 'text', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('audit_events_at').on('audit_events').columns(['at', 'id']).execute()
      await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['actor', 'at']).execute()
      await db.schema.createIndex('audit_events_target').on('audit_events').columns(['target', 'at']).execute()

      await db.schema
        .createTable('console_apps')
        .addColumn('client_id', 'text', (c) => c.primaryKey())
        .addColumn('owner_user_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('api_key_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('console_apps_owner').on('console_apps').column('owner_user_id').execute()
    },
  },
  '2026-11-23-030-refresh-family-api-key': {
    async up(db: Kysely<unknown>) {
      // A family started by an API key exchange names the key, so revoking the key ends it.
      await db.schema.alterTable('refresh_families').addColumn('api_key_id', 'text').execute()
      await db.schema.createIndex('refresh_families_api_key_id').on('refresh_families').column('api_key_id').execute()
    },
  },
  '2026-11-23-040-opaque-tokens-family-id': {
    async up(db: Kysely<unknown>) {
      // Housekeeping keeps a family while an opaque token minted from it lives: look them up by family.
      await db.schema.createIndex('opaque_tokens_family_id').on('opaque_tokens').column('family_id').execute()
    },
  },
  '2026-12-01-050-grants': {
    async up(db: Kysely<unknown>) {
      // A refresh family becomes a grant record (issue 11): what was granted, to whom, by which
      // grant type, and why it ended. Access tokens name their grant.
      await db.schema.alterTable('refresh_families').renameTo('grants').execute()
      await db.schema.alterTable('grants').addColumn('subject_type', 'text', (c) => c.notNull().defaultTo('user')).execute()
      await db.schema.alterTable('grants').addColumn('grant_type', 'text', (c) => c.notNull().defaultTo('password')).execute()
      await db.schema.alterTable('grants').addColumn('scope', 'text', (c) => c.notNull().defaultTo('')).execute()
      await db.schema.alterTable('grants').addColumn('audience', 'text').execute()
      await db.schema.alterTable('grants').addColumn('revoked_reason', 'text').execute()
      // Existing families: an API key started those that name one; the subject is the client
      // itself when they are equal; the scope is that of the family's newest token.
      await sql`UPDATE grants SET grant_type = 'api_key' WHERE api_key_id IS NOT NULL`.execute(db)
      await sql`UPDATE grants SET subject_type = 'client' WHERE subject = client_id`.execute(db)
      await sql`UPDATE grants SET scope = COALESCE((SELECT t.scope FROM refresh_tokens t WHERE t.family_id = grants.id ORDER BY t.issued_at DESC LIMIT 1), '')`.execute(db)
      await db.schema.createIndex('grants_subject').on('grants').columns(['subject', 'client_id']).execute()
      await db.schema.alterTable('opaque_tokens').renameColumn('family_id', 'grant_id').execute()
      await db.schema.alterTable('clients').addColumn('tokens_not_before', 'bigint').execute()
    },
  },
  '2026-12-01-060-operators': {
    async up(db: Kysely<unknown>) {
      // The operator list: identities that may use the management API (docs/management.md).
      await db.schema
        .createTable('operators')
        .addColumn('subject_kind', 'text', (c) => c.notNull())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('operators_pk', ['subject_kind', 'subject_id'])
        .execute()
    },
  },
  '2026-12-01-070-api-registry-and-allowed-users': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('apis')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('identifier', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute()
      // Scope names are unique across the whole registry: the name alone is the key.
      await db.schema
        .createTable('api_scopes')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('api_id', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('self_service', 'integer', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('api_scopes_api_id').on('api_scopes').column('api_id').execute()
      // The users a client may log in (password grant); NULL: any user, as before.
      await db.schema.alterTable('clients').addColumn('allowed_users', 'text').execute()
    },
  },
  '2026-12-01-080-rs256': {
    async up(db: Kysely<unknown>) {
      // RFC 9068 §2.1: RS256 beside ES256. Existing clients keep ES256; the first RS256 signing
      // key is made by the key ring at the next start (signing_keys already has an alg column).
      await db.schema.alterTable('clients').addColumn('signing_alg', 'text', (c) => c.notNull().defaultTo('ES256')).execute()
    },
  },
  '2026-12-02-090-client-redirects': {
    async up(db: Kysely<unknown>) {
      // Issue 13: clients that act for a person through the browser. Existing clients are
      // confidential (a secret) and have no redirect URIs, so nothing they do changes.
      await db.schema.alterTable('clients').addColumn('token_endpoint_auth_method', 'text', (c) => c.notNull().defaultTo('client_secret_basic')).execute()
      await db.schema.alterTable('clients').addColumn('application_type', 'text').execute()
      await db.schema.alterTable('clients').addColumn('redirect_uris', 'text', (c) => c.notNull().defaultTo('')).execute()
      await db.schema.alterTable('clients').addColumn('post_logout_redirect_uris', 'text', (c) => c.notNull().defaultTo('')).execute()
      await db.schema.alterTable('clients').addColumn('require_par', 'integer', (c) => c.notNull().defaultTo(0)).execute()
      await db.schema.alterTable('clients').addColumn('skip_consent', 'integer', (c) => c.notNull().defaultTo(0)).execute()
    },
  },
  '2026-12-02-100-authorization': {
    async up(db: Kysely<unknown>) {
      // Issue 13: the records of the authorization code flow, sign-in, consent, PAR and the
      // device flow. Every secret is a digest. Each table a client owns has a client_id index
      // (deleting the client deletes them), each short-lived one an expires_at index (housekeeping).
      await db.schema
        .createTable('authorization_codes')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('audience', 'text')
        .addColumn('code_challenge', 'text', (c) => c.notNull())
        .addColumn('nonce', 'text')
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('auth_time', 'bigint', (c) => c.notNull())
        .addColumn('issued_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addColumn('grant_id', 'text')
        .execute()
      await db.schema.createIndex('authorization_codes_client_id').on('authorization_codes').column('client_id').execute()
      await db.schema.createIndex('authorization_codes_expires_at').on('authorization_codes').column('expires_at').execute()

      await db.schema
        .createTable('sign_in_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('digest', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('auth_time', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('ended_at', 'bigint')
        .execute()
      await db.schema.createIndex('sign_in_sessions_user_id').on('sign_in_sessions').column('user_id').execute()
      await db.schema.createIndex('sign_in_sessions_expires_at').on('sign_in_sessions').column('expires_at').execute()
      // Housekeeping deletes ended sessions too; only those few rows are in this index.
      await db.schema.createIndex('sign_in_sessions_ended_at').on('sign_in_sessions').column('ended_at').where(sql.ref('ended_at'), 'is not', null).execute()

      await db.schema
        .createTable('consents')
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('consents_pk', ['user_id', 'client_id'])
        .execute()
      await db.schema.createIndex('consents_client_id').on('consents').column('client_id').execute()

      await db.schema
        .createTable('pushed_requests')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('client_id', 'text', (c) => c.notNull())
        // JSON text: the request's parameters, as sent.
        .addColumn('parameters', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute()
      await db.schema.createIndex('pushed_requests_client_id').on('pushed_requests').column('client_id').execute()
      await db.schema.createIndex('pushed_requests_expires_at').on('pushed_requests').column('expires_at').execute()

      await db.schema
        .createTable('device_authorizations')
        .addColumn('device_code_digest', 'text', (c) => c.primaryKey())
        .addColumn('user_code_digest', 'text', (c) => c.notNull().unique())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('audience', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('session_id', 'text')
        .addColumn('auth_time', 'bigint')
        // Not `interval`: a reserved word in PostgreSQL.
        .addColumn('poll_interval', 'integer', (c) => c.notNull())
        .addColumn('last_polled_at', 'bigint')
        // The poll before the last one: the UPDATE that records a poll copies last_polled_at
        // here and RETURNs it, so "previous poll time" is one statement on both databases.
        .addColumn('prior_polled_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addColumn('grant_id', 'text')
        .execute()
      await db.schema.createIndex('device_authorizations_client_id').on('device_authorizations').column('client_id').execute()
      await db.schema.createIndex('device_authorizations_expires_at').on('device_authorizations').column('expires_at').execute()
    },
  },
  '2026-12-02-110-client-keys': {
    async up(db: Kysely<unknown>) {
      // Issue 14: private_key_jwt clients register public keys, inline (JSON text) or by URL.
      // Existing clients have neither, and keep authenticating as before.
      await db.schema.alterTable('clients').addColumn('jwks', 'text').execute()
      await db.schema.alterTable('clients').addColumn('jwks_uri', 'text').execute()
      // Every accepted client assertion's jti, until the assertion expires: the primary key makes
      // "first use wins" one atomic insert on every instance (RFC 7523 §3, replay).
      await db.schema
        .createTable('client_assertion_jtis')
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('jti', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('client_assertion_jtis_pk', ['client_id', 'jti'])
        .execute()
      await db.schema.createIndex('client_assertion_jtis_expires_at').on('client_assertion_jtis').column('expires_at').execute()
    },
  },
  /**
   * RFC 9449 (DPoP). Touches only tables and columns of its own, so it applies whether or not
   * 2026-12-02-110-client-keys ran before it: a client may require proofs, a grant (its refresh
   * tokens) and an opaque access token keep the key thumbprint they are bound to, and every
   * proof's jti is remembered until its window has passed (single use across instances).
   */
  '2026-12-02-120-dpop': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('clients').addColumn('require_dpop', 'integer', (c) => c.notNull().defaultTo(0)).execute()
      await db.schema.alterTable('grants').addColumn('dpop_jkt', 'text').execute()
      await db.schema.alterTable('opaque_tokens').addColumn('dpop_jkt', 'text').execute()
      await db.schema
        .createTable('dpop_proofs')
        // SHA-256 (base64url) of the key thumbprint and the jti: fixed length whatever the caller sent.
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('dpop_proofs_expires_at').on('dpop_proofs').column('expires_at').execute()
    },
  },
  /**
   * Issue 14: resource indicators (RFC 8707) and token exchange (RFC 8693). A client names the
   * further resources it may ask for and whether it may impersonate; a grant keeps every resource
   * it was granted for (an authorization request may name several; each access token serves one);
   * an authorization code keeps them and the DPoP key it is bound to (RFC 9449 §10); an opaque
   * token keeps its actor (`act`, JSON text). Lists are space-separated, as the others (a URI has no space).
   */
  '2026-12-02-130-resources-and-exchange': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('clients').addColumn('resources', 'text', (c) => c.notNull().defaultTo('')).execute()
      await db.schema.alterTable('clients').addColumn('allow_impersonation', 'integer', (c) => c.notNull().defaultTo(0)).execute()
      await db.schema.alterTable('grants').addColumn('resources', 'text', (c) => c.notNull().defaultTo('')).execute()
      await db.schema.alterTable('authorization_codes').addColumn('resources', 'text', (c) => c.notNull().defaultTo('')).execute()
      await db.schema.alterTable('authorization_codes').addColumn('dpop_jkt', 'text').execute()
      await db.schema.alterTable('opaque_tokens').addColumn('act', 'text').execute()
    },
  },
  '2026-12-02-200-client-usage': clientUsage,
  /** client_credentials token reuse (issue 15): a per-client window, 0 (off) for every existing client. */
  '2026-12-02-210-token-reuse': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('clients').addColumn('token_reuse_seconds', 'integer', (c) => c.notNull().defaultTo(0)).execute()
    },
  },
}
