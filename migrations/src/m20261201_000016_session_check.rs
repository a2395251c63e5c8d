//! `tote_session_active(family)`: whether a login session (a refresh-token family) is still
//! open, in one prepared statement. Every request with an access token asks this before the
//! tenant is known; under forced row-level security a plain query would need `BEGIN`,
//! `set_config`, the query and `COMMIT` — four round trips. Like `tote_active_api_key`
//! (m20261201_000011), the function sets the bypass for its own query only and puts it back.
//! PostgreSQL only; SQLite has no row-level security.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

pub const SESSION_ACTIVE_FUNCTION: &str = r#"
CREATE OR REPLACE FUNCTION tote_session_active(family uuid)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE before text := current_setting('app.bypass_rls', true);
DECLARE open boolean;
BEGIN
  PERFORM set_config('app.bypass_rls', 'on', true);
  SELECT EXISTS (SELECT 1 FROM refresh_tokens t
                 WHERE t.family_id = family AND t.revoked_at IS NULL) INTO open;
  PERFORM set_config('app.bypass_rls', coalesce(before, ''), true);
  RETURN open;
END
$$;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared(SESSION_ACTIVE_FUNCTION)
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS tote_session_active(uuid);")
                .await?;
        }
        Ok(())
    }
}
