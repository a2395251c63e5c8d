//! PostgreSQL: the row-level security policies bind the tables' owner too
//! (`FORCE ROW LEVEL SECURITY`), so the app — which owns the tables because it runs its own
//! migrations — is subject to `tenant_isolation` like any other role. Only superusers and
//! roles with `BYPASSRLS` still pass; the app must connect as neither (docs/adr/008).
//!
//! From this migration on, a statement that moves data inside a later migration runs under the
//! policies as well: it must call [`bypass_rls`] first (transaction-local; sea-orm runs each
//! migration in one transaction on PostgreSQL). SQLite has no row-level security: nothing here.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Idempotent: forces row-level security on every tenant table not forced yet (a no-op, no
/// DDL, once all are).
pub const FORCE_POLICIES: &str = r#"
DO $$
DECLARE t record;
BEGIN
  FOR t IN
    SELECT n.nspname AS table_schema, c.relname AS table_name
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema()
      AND c.relkind = 'r'
      AND NOT c.relforcerowsecurity
      AND EXISTS (
        SELECT 1 FROM pg_policies p
        WHERE p.schemaname = n.nspname AND p.tablename = c.relname
          AND p.policyname = 'tenant_isolation')
  LOOP
    EXECUTE format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', t.table_schema, t.table_name);
  END LOOP;
END
$$;
"#;

/// The API-key look-up of every request, as one prepared statement: the bypass is set for this
/// query only and then put back as it was (`SqlStore::find_active_by_hash`). Without it the
/// look-up would need `BEGIN`, `set_config`, the query and `COMMIT` — four round trips per request.
pub const ACTIVE_API_KEY_FUNCTION: &str = r#"
CREATE OR REPLACE FUNCTION tote_active_api_key(key_hash text)
RETURNS TABLE (id uuid, tenant_id uuid, scopes jsonb)
LANGUAGE plpgsql AS $$
DECLARE before text := current_setting('app.bypass_rls', true);
BEGIN
  PERFORM set_config('app.bypass_rls', 'on', true);
  RETURN QUERY
    SELECT k.id, k.tenant_id, k.scopes FROM api_keys k
    WHERE k.hash = key_hash AND k.revoked_at IS NULL
    LIMIT 1;
  PERFORM set_config('app.bypass_rls', coalesce(before, ''), true);
END
$$;
"#;

/// Creates the `tenant_isolation` policy on every tenant table that lacks it (as
/// m20261123_000006 does) and forces it on the owner. Idempotent; run by `SqlStore::migrate`
/// after every migration run, and by later migrations that add tenant tables.
pub async fn apply_policies<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    crate::m20261123_000006_row_level_security::apply_policies(db).await?;
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_unprepared(FORCE_POLICIES).await?;
    }
    Ok(())
}

/// For data-moving statements of migrations after this one: lets the current transaction see
/// and write every tenant's rows. A no-op on SQLite.
pub async fn bypass_rls<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_unprepared("SELECT set_config('app.bypass_rls', 'on', true)")
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared(ACTIVE_API_KEY_FUNCTION)
                .await?;
        }
        apply_policies(m.get_connection()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared(
                    r#"DO $$
DECLARE t record;
BEGIN
  FOR t IN SELECT schemaname, tablename FROM pg_policies
           WHERE schemaname = current_schema() AND policyname = 'tenant_isolation'
  LOOP
    EXECUTE format('ALTER TABLE %I.%I NO FORCE ROW LEVEL SECURITY', t.schemaname, t.tablename);
  END LOOP;
END
$$;
DROP FUNCTION IF EXISTS tote_active_api_key(text);"#,
                )
                .await?;
        }
        Ok(())
    }
}
