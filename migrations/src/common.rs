//! Small builders the migrations share.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

/// `table.col` references `tenants.id`; a deleted tenant takes its rows with it.
pub(crate) fn cascade_to_tenant(
    table: impl IntoIden + Clone + 'static,
    col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}
