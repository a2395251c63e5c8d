//! Identity and tenancy: users with roles and TOTP, rotating refresh tokens, scoped API keys,
//! plan limits per tenant, and the append-only audit log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    TenantId,
    Email,
    Role,
    PasswordHash,
    Active,
    TotpSecret,
    TotpEnabled,
    RecoveryCodes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    TenantId,
    UserId,
    FamilyId,
    Hash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    TenantId,
    Actor,
    Action,
    Target,
    RequestId,
    Outcome,
    OccurredAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Scopes,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    PlanOrdersPerDay,
    PlanMaxSkus,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(uuid(Users::Id).primary_key())
                .col(uuid(Users::TenantId))
                .col(string(Users::Email))
                .col(string(Users::Role))
                .col(string(Users::PasswordHash))
                .col(boolean(Users::Active))
                .col(string_null(Users::TotpSecret))
                .col(boolean(Users::TotpEnabled))
                // SHA-256 hashes of the unused recovery codes.
                .col(json_binary(Users::RecoveryCodes))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .col(timestamp_with_time_zone(Users::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Users::Table, Users::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // Login is by email alone, so an email names one user across all tenants.
        m.create_index(
            Index::create()
                .name("ux_users_email")
                .table(Users::Table)
                .col(Users::Email)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_users_tenant")
                .table(Users::Table)
                .col(Users::TenantId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .col(uuid(RefreshTokens::Id).primary_key())
                .col(uuid(RefreshTokens::TenantId))
                .col(uuid(RefreshTokens::UserId))
                .col(uuid(RefreshTokens::FamilyId))
                .col(string(RefreshTokens::Hash))
                .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(RefreshTokens::Table, RefreshTokens::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_refresh_tokens_hash")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::Hash)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_refresh_tokens_family")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::FamilyId)
                .to_owned(),
        )
        .await?;

        // Append-only: the application only ever inserts and reads.
        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(uuid(AuditLog::Id).primary_key())
                .col(uuid_null(AuditLog::TenantId))
                .col(string(AuditLog::Actor))
                .col(string(AuditLog::Action))
                .col(string_null(AuditLog::Target))
                .col(string(AuditLog::RequestId))
                .col(integer(AuditLog::Outcome))
                .col(timestamp_with_time_zone(AuditLog::OccurredAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_audit_log_tenant_id")
                .table(AuditLog::Table)
                .col(AuditLog::TenantId)
                .col(AuditLog::Id)
                .to_owned(),
        )
        .await?;

        // NULL scopes: a key made before scopes existed, with full access.
        m.alter_table(
            Table::alter()
                .table(ApiKeys::Table)
                .add_column(json_binary_null(ApiKeys::Scopes))
                .to_owned(),
        )
        .await?;
        // NULL: no limit.
        m.alter_table(
            Table::alter()
                .table(Tenants::Table)
                .add_column(big_integer_null(Tenants::PlanOrdersPerDay))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Tenants::Table)
                .add_column(big_integer_null(Tenants::PlanMaxSkus))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(RefreshTokens::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
