//! Pick and pack on the floor: the floor unit of work (pick lists and pack sessions as JSON
//! bodies with a version, bin stock moved by scans, pick tasks), bin stock for planning, and
//! the floor's reads and small writes (bins, put-away, boxes, tasks). Every query runs in a
//! tenant transaction ([`SqlStore::begin_tenant`]).

use crate::entities::{product, stock_allocation, warehouse as warehouse_row};
use crate::floor_entities::{bin, bin_stock, box_type, task_row, to_task, warehouse_task};
use crate::{SqlStore, is_unique_violation, outbox, store_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{
    Currency, EventEnvelope, Money, OrderId, Quantity, Sku, StoreError, TenantId, WarehouseId,
};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;
use warehouse::{
    AppliedScan, Bin, BinCode, BinStock, BinStockReader, BoxType, CycleCount, FloorTransaction,
    FloorUnitOfWork, InboundShipment, PackItem, PackProgress, PackSession, PackStatus, PickLine,
    PickList, PickStatus, PutAwayError, TaskError, TaskKind, TaskStatus, Unallocated,
    WarehouseTask, claim_next,
};

/// Tables of migration 000014.
pub mod entities {
    pub mod pick_list {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "pick_lists")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub tenant_id: Uuid,
            pub warehouse_id: Uuid,
            pub status: String,
            pub body: Json,
            pub version: i64,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod pack_session {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "pack_sessions")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub tenant_id: Uuid,
            pub order_id: Uuid,
            pub status: String,
            pub body: Json,
            pub version: i64,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    }
}

use entities::{pack_session, pick_list};

fn bad(what: &str) -> StoreError {
    StoreError::new(format!("stored floor row has a bad {what}"))
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::from_source(e)
}

mod bodies;
mod floor_admin;
mod unit_of_work;

use bodies::*;
pub use floor_admin::*;
pub use unit_of_work::*;
