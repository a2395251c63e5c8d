//! Receiving, cycle counts and QC: inbound shipments (ASN) with their lines and applied scans
//! as a versioned JSON body, the put-away detail of `put_away` warehouse tasks, cycle counts
//! of one bin, each tenant's QC checklists, inspections and the quarantines failed ones open.
//! Stock itself stays in `stock_levels` and its ledger; a quarantine is a stock reservation
//! owned by `quarantine:<id>`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum InboundShipments {
    Table,
    Id,
    TenantId,
    WarehouseId,
    Reference,
    Status,
    /// `{"v":1,"lines":[...],"scans":[...]}`
    Body,
    Version,
    CreatedAt,
    ClosedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PutAwayTasks {
    Table,
    TaskId,
    TenantId,
    InboundId,
    Sku,
    Quantity,
    SuggestedBin,
    PlacedBin,
}

#[derive(DeriveIden, Clone, Copy)]
enum CycleCounts {
    Table,
    Id,
    TenantId,
    WarehouseId,
    BinCode,
    Status,
    /// `{"v":1,"expected":[[sku,n]],"counted":[[sku,n]]}`
    Body,
    Counter,
    Version,
    CreatedAt,
    CountedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum QcChecklists {
    Table,
    Id,
    TenantId,
    Name,
    Stage,
    Sku,
    /// `{"v":1,"questions":[...]}`
    Body,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum QcResults {
    Table,
    Id,
    TenantId,
    ChecklistId,
    WarehouseId,
    Stage,
    Sku,
    Quantity,
    Inspector,
    /// `released` or `quarantined`.
    Outcome,
    QuarantineId,
    Reference,
    InspectedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Quarantines {
    Table,
    Id,
    TenantId,
    WarehouseId,
    InspectionId,
    Sku,
    Quantity,
    Reason,
    Status,
    CreatedAt,
    SettledAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tenants {
    Table,
    Id,
}

fn to_tenants(
    table: impl IntoIden + Clone + 'static,
    col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn index<T: IntoIden + Copy + 'static>(name: &str, table: T, cols: Vec<T>) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(col);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(InboundShipments::Table)
                .col(uuid(InboundShipments::Id).primary_key())
                .col(uuid(InboundShipments::TenantId))
                .col(uuid(InboundShipments::WarehouseId))
                .col(string(InboundShipments::Reference))
                .col(string(InboundShipments::Status))
                .col(json_binary(InboundShipments::Body))
                .col(big_integer(InboundShipments::Version))
                .col(timestamp_with_time_zone(InboundShipments::CreatedAt))
                .col(timestamp_with_time_zone_null(InboundShipments::ClosedAt))
                .foreign_key(&mut to_tenants(
                    InboundShipments::Table,
                    InboundShipments::TenantId,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_inbound_shipments_tenant_status",
            InboundShipments::Table,
            vec![
                InboundShipments::TenantId,
                InboundShipments::Status,
                InboundShipments::Id,
            ],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(PutAwayTasks::Table)
                .col(uuid(PutAwayTasks::TaskId).primary_key())
                .col(uuid(PutAwayTasks::TenantId))
                .col(uuid(PutAwayTasks::InboundId))
                .col(string(PutAwayTasks::Sku))
                .col(big_integer(PutAwayTasks::Quantity))
                .col(string(PutAwayTasks::SuggestedBin))
                .col(string_null(PutAwayTasks::PlacedBin))
                .foreign_key(&mut to_tenants(PutAwayTasks::Table, PutAwayTasks::TenantId))
                .foreign_key(
                    ForeignKey::create()
                        .from(PutAwayTasks::Table, PutAwayTasks::InboundId)
                        .to(InboundShipments::Table, InboundShipments::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_put_away_tasks_inbound",
            PutAwayTasks::Table,
            vec![PutAwayTasks::TenantId, PutAwayTasks::InboundId],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(CycleCounts::Table)
                .col(uuid(CycleCounts::Id).primary_key())
                .col(uuid(CycleCounts::TenantId))
                .col(uuid(CycleCounts::WarehouseId))
                .col(string(CycleCounts::BinCode))
                .col(string(CycleCounts::Status))
                .col(json_binary(CycleCounts::Body))
                .col(string_null(CycleCounts::Counter))
                .col(big_integer(CycleCounts::Version))
                .col(timestamp_with_time_zone(CycleCounts::CreatedAt))
                .col(timestamp_with_time_zone_null(CycleCounts::CountedAt))
                .foreign_key(&mut to_tenants(CycleCounts::Table, CycleCounts::TenantId))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_cycle_counts_accuracy",
            CycleCounts::Table,
            vec![
                CycleCounts::TenantId,
                CycleCounts::WarehouseId,
                CycleCounts::Status,
                CycleCounts::CountedAt,
            ],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(QcChecklists::Table)
                .col(uuid(QcChecklists::Id).primary_key())
                .col(uuid(QcChecklists::TenantId))
                .col(string(QcChecklists::Name))
                .col(string(QcChecklists::Stage))
                .col(string_null(QcChecklists::Sku))
                .col(json_binary(QcChecklists::Body))
                .col(timestamp_with_time_zone(QcChecklists::CreatedAt))
                .foreign_key(&mut to_tenants(QcChecklists::Table, QcChecklists::TenantId))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_qc_checklists_tenant",
            QcChecklists::Table,
            vec![QcChecklists::TenantId, QcChecklists::Id],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(QcResults::Table)
                .col(uuid(QcResults::Id).primary_key())
                .col(uuid(QcResults::TenantId))
                .col(uuid(QcResults::ChecklistId))
                .col(uuid(QcResults::WarehouseId))
                .col(string(QcResults::Stage))
                .col(string(QcResults::Sku))
                .col(big_integer(QcResults::Quantity))
                .col(string(QcResults::Inspector))
                .col(string(QcResults::Outcome))
                .col(uuid_null(QcResults::QuarantineId))
                .col(string_null(QcResults::Reference))
                .col(timestamp_with_time_zone(QcResults::InspectedAt))
                .foreign_key(&mut to_tenants(QcResults::Table, QcResults::TenantId))
                .foreign_key(
                    ForeignKey::create()
                        .from(QcResults::Table, QcResults::ChecklistId)
                        .to(QcChecklists::Table, QcChecklists::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Quarantines::Table)
                .col(uuid(Quarantines::Id).primary_key())
                .col(uuid(Quarantines::TenantId))
                .col(uuid(Quarantines::WarehouseId))
                .col(uuid(Quarantines::InspectionId))
                .col(string(Quarantines::Sku))
                .col(
                    big_integer(Quarantines::Quantity)
                        .check(Expr::col(Quarantines::Quantity).gt(0)),
                )
                .col(string(Quarantines::Reason))
                .col(string(Quarantines::Status))
                .col(timestamp_with_time_zone(Quarantines::CreatedAt))
                .col(timestamp_with_time_zone_null(Quarantines::SettledAt))
                .foreign_key(&mut to_tenants(Quarantines::Table, Quarantines::TenantId))
                .foreign_key(
                    ForeignKey::create()
                        .from(Quarantines::Table, Quarantines::InspectionId)
                        .to(QcResults::Table, QcResults::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_quarantines_tenant_status",
            Quarantines::Table,
            vec![Quarantines::TenantId, Quarantines::Status, Quarantines::Id],
        ))
        .await?;
        crate::apply_policies(m.get_connection()).await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
