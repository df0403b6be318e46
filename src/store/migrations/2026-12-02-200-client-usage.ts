import type { Kysely, Migration } from 'kysely'

/**
 * Token counts per client and grant type (core ClientUsageStore), which instances add to every
 * few seconds. Self-contained: one new table, no change to another, so it applies whatever
 * migrations of the same day ran before it.
 */
export const clientUsage: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('client_usage')
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('grant_type', 'text', (c) => c.notNull())
      .addColumn('count', 'bigint', (c) => c.notNull())
      .addColumn('last_issued_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('client_usage_pk', ['client_id', 'grant_type'])
      .execute()
  },
}
