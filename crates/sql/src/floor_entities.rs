//! sea-orm entities of the floor's shared tables (migration 000013): bins, bin stock, boxes
//! and warehouse tasks, and the one mapping of a task to its row. The floor adapters (picking, packing, receiving, counts, QC) use them.

pub mod bin {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "bins")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub warehouse_id: Uuid,
        pub code: String,
        pub zone: String,
        pub walk_order: i64,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}
}

pub mod bin_stock {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "bin_stock")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub bin_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub sku: String,
        /// Never below zero (CHECK).
        pub quantity: i64,
        /// The SKU's home bin: picked from first, put away to first.
        pub preferred: bool,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}
}

pub mod box_type {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "boxes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        pub length_mm: i64,
        pub width_mm: i64,
        pub height_mm: i64,
        pub max_weight_g: i64,
        pub cost_minor: i64,
        pub currency: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}
}

pub mod warehouse_task {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "warehouse_tasks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub warehouse_id: Uuid,
        /// `TaskKind::as_str`.
        pub kind: String,
        /// `TaskStatus::as_str`.
        pub status: String,
        pub reference: String,
        pub assignee: Option<String>,
        pub ship_by: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub started_at: Option<DateTimeUtc>,
        pub completed_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}
}

use kernel::{StoreError, TenantId, WarehouseId};
use sea_orm::ActiveValue::Set;
use warehouse::{TaskKind, TaskStatus, WarehouseTask};

/// A task as its row (both floor adapters store tasks the same way).
pub(crate) fn task_row(t: &WarehouseTask) -> warehouse_task::ActiveModel {
    warehouse_task::ActiveModel {
        id: Set(t.id),
        tenant_id: Set(t.tenant_id.into_uuid()),
        warehouse_id: Set(t.warehouse.into_uuid()),
        kind: Set(t.kind.as_str().to_owned()),
        status: Set(t.status.as_str().to_owned()),
        reference: Set(t.reference.clone()),
        assignee: Set(t.assignee.clone()),
        ship_by: Set(t.ship_by),
        created_at: Set(t.created_at),
        started_at: Set(t.started_at),
        completed_at: Set(t.completed_at),
    }
}

pub(crate) fn to_task(m: warehouse_task::Model) -> Result<WarehouseTask, StoreError> {
    Ok(WarehouseTask {
        id: m.id,
        tenant_id: TenantId::from_uuid(m.tenant_id),
        warehouse: WarehouseId::from_uuid(m.warehouse_id),
        kind: TaskKind::parse(&m.kind)
            .ok_or_else(|| StoreError::new(format!("unknown task kind {}", m.kind)))?,
        status: TaskStatus::parse(&m.status)
            .ok_or_else(|| StoreError::new(format!("unknown task status {}", m.status)))?,
        reference: m.reference,
        assignee: m.assignee,
        ship_by: m.ship_by,
        created_at: m.created_at,
        started_at: m.started_at,
        completed_at: m.completed_at,
    })
}
