//! PostgreSQL row-level security: a second wall behind the tenant filter of every query.
//!
//! Every table of the schema with a `tenant_id` column gets a policy that shows and accepts only
//! rows of the tenant named by `app.tenant_id` (set per transaction with
//! `set_config('app.tenant_id', …, true)`), unless `app.bypass_rls` is `on` (background jobs
//! that work across tenants: outbox relay, webhook dispatch, authentication look-ups).
//! Tables are found dynamically, so tables added by other migrations are covered when this runs
//! again through [`apply_policies`]. SQLite has no row-level security: nothing to do there.
//!
//! The table owner and superusers bypass policies (PostgreSQL's rule); see docs/adr/008.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Idempotent: creates the `tenant_isolation` policy on every tenant table that lacks it.
pub const APPLY_POLICIES: &str = r#"
DO $$
DECLARE t record;
BEGIN
  FOR t IN
    SELECT c.table_schema, c.table_name
    FROM information_schema.columns c
    JOIN information_schema.tables tb
      ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
    WHERE c.column_name = 'tenant_id'
      AND c.table_schema = current_schema()
      AND tb.table_type = 'BASE TABLE'
      -- Only tables not yet covered: a no-op (no DDL) once every table has its policy.
      AND NOT EXISTS (
        SELECT 1 FROM pg_policies p
        WHERE p.schemaname = c.table_schema AND p.tablename = c.table_name
          AND p.policyname = 'tenant_isolation')
  LOOP
    EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', t.table_schema, t.table_name);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %I.%I', t.table_schema, t.table_name);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I.%I
         USING (current_setting(''app.bypass_rls'', true) = ''on''
                OR tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)
         WITH CHECK (current_setting(''app.bypass_rls'', true) = ''on''
                OR tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)',
      t.table_schema, t.table_name);
  END LOOP;
END
$$;
"#;

/// Applies the policies on PostgreSQL; a no-op elsewhere.
pub async fn apply_policies<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_unprepared(APPLY_POLICIES).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        apply_policies(m.get_connection()).await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
