//! Order reads: search and lists, timelines, shipments, and the backorder queue.

use crate::entities::{
    kit_component, order as order_row, order_line, order_status_history, outbox_event, shipment,
};
use crate::orders::{by_external, idempotency, one_order, tenant_orders, with_lines};
use crate::{SqlStore, store_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{
    OrderId, Page, PageRequest, Quantity, ReturnId, ShipmentId, Sku, StoreError, TenantId,
};
use order::ports::{
    IdempotencyRecord, OrderCursor, OrderFilter, OrderQueries, OrderSort, ReturnFilter,
    TimelineEntry,
};
use order::returns::ReturnAuthorization;
use order::{Cutoff, Order, OrderStatus, Shipment, ShipmentLine};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;

fn bad(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::from_source(e)
}

/// Orders with a line for one of `skus` matching `extra`.
fn with_line(tenant: TenantId, skus: &[Sku], extra: Condition) -> Condition {
    let sku_is = order_line::Column::Sku.is_in(skus.iter().map(Sku::as_str));
    with_line_where(tenant, Condition::all().add(sku_is), extra)
}

/// Orders with a line for one of `skus`, or for a kit made of one of them, matching `extra`.
fn with_line_or_kit(tenant: TenantId, skus: &[Sku], extra: Condition) -> Condition {
    let kits_of = Query::select()
        .column(kit_component::Column::KitSku)
        .from(kit_component::Entity)
        .cond_where(
            Condition::all()
                .add(kit_component::Column::TenantId.eq(tenant.into_uuid()))
                .add(kit_component::Column::ComponentSku.is_in(skus.iter().map(Sku::as_str))),
        )
        .to_owned();
    let sku_is = Condition::any()
        .add(order_line::Column::Sku.is_in(skus.iter().map(Sku::as_str)))
        .add(order_line::Column::Sku.in_subquery(kits_of));
    with_line_where(tenant, sku_is, extra)
}

fn with_line_where(tenant: TenantId, sku_is: Condition, extra: Condition) -> Condition {
    Condition::all().add(
        order_row::Column::Id.in_subquery(
            Query::select()
                .column(order_line::Column::OrderId)
                .from(order_line::Entity)
                .cond_where(
                    Condition::all()
                        .add(order_line::Column::TenantId.eq(tenant.into_uuid()))
                        .add(sku_is)
                        .add(extra),
                )
                .to_owned(),
        ),
    )
}

fn filtered(tenant: TenantId, f: &OrderFilter) -> sea_orm::Select<order_row::Entity> {
    let mut q = tenant_orders(tenant);
    if !f.statuses.is_empty() {
        q = q.filter(order_row::Column::Status.is_in(f.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(channel) = &f.channel {
        q = q.filter(order_row::Column::Channel.eq(channel.as_str()));
    }
    // An order's id carries its creation millisecond (`OrderId::at`), so a time window is also
    // an id range: the list walks only that range of its id-ordered index instead of every
    // newer order (docs/adr/029). The slack covers ids made before that, a moment apart.
    let slack = chrono::Duration::minutes(1);
    if let Some(from) = f.created_from {
        q = q.filter(order_row::Column::CreatedAt.gte(from));
        if let Some(lower) = from.checked_sub_signed(slack) {
            q = q.filter(order_row::Column::Id.gte(OrderId::floor_of(lower)));
        }
    }
    if let Some(before) = f.created_before {
        q = q.filter(order_row::Column::CreatedAt.lt(before));
        let past = slack + chrono::Duration::milliseconds(1);
        if let Some(upper) = before.checked_add_signed(past) {
            q = q.filter(order_row::Column::Id.lt(OrderId::floor_of(upper)));
        }
    }
    if let Some(sku) = &f.sku {
        q = q.filter(with_line(
            tenant,
            std::slice::from_ref(sku),
            Condition::all(),
        ));
    }
    if let Some(email) = &f.customer_email {
        q = q.filter(order_row::Column::CustomerEmail.eq(email.to_lowercase()));
    }
    if let Some(before) = f.ship_by_before {
        q = q.filter(order_row::Column::ShipBy.lt(before));
    }
    q
}

/// Ship-by order, for the warehouse queue and backorder fills.
fn queue_order(q: sea_orm::Select<order_row::Entity>) -> sea_orm::Select<order_row::Entity> {
    q.order_by_asc(order_row::Column::ShipBy)
        .order_by_asc(order_row::Column::ServiceRank)
        .order_by_asc(order_row::Column::Id)
}

/// Rows strictly after `c` in ship-by order.
fn after_in_queue(c: &OrderCursor) -> Condition {
    let ship_by = c.ship_by.unwrap_or(DateTime::<Utc>::MIN_UTC);
    let id = c.id.into_uuid();
    Condition::any()
        .add(order_row::Column::ShipBy.gt(ship_by))
        .add(
            Condition::all()
                .add(order_row::Column::ShipBy.eq(ship_by))
                .add(
                    Condition::any()
                        .add(order_row::Column::ServiceRank.gt(c.rank))
                        .add(
                            Condition::all()
                                .add(order_row::Column::ServiceRank.eq(c.rank))
                                .add(order_row::Column::Id.gt(id)),
                        ),
                ),
        )
}

fn to_shipment(m: shipment::Model) -> Result<Shipment, StoreError> {
    let lines: Vec<(u32, String, i64)> = serde_json::from_value::<Vec<serde_json::Value>>(m.lines)
        .map_err(bad)?
        .into_iter()
        .map(|l| {
            (
                l["line_no"].as_u64().unwrap_or_default() as u32,
                l["sku"].as_str().unwrap_or_default().to_owned(),
                l["quantity"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    Ok(Shipment {
        id: ShipmentId::from_uuid(m.id),
        order_id: OrderId::from_uuid(m.order_id),
        carrier: m.carrier,
        service: m.service,
        tracking_number: m.tracking_number,
        tracking_url: m.tracking_url,
        lines: lines
            .into_iter()
            .map(|(line_no, sku, quantity)| {
                Ok(ShipmentLine {
                    line_no,
                    sku: Sku::parse(&sku).map_err(bad)?,
                    quantity: Quantity::new(quantity).map_err(bad)?,
                })
            })
            .collect::<Result<_, StoreError>>()?,
        shipped_at: m.shipped_at,
    })
}

pub(crate) async fn insert_shipment(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    s: &Shipment,
) -> Result<(), StoreError> {
    let lines: Vec<serde_json::Value> = s
        .lines
        .iter()
        .map(|l| json!({"line_no": l.line_no, "sku": l.sku, "quantity": l.quantity}))
        .collect();
    shipment::Entity::insert(shipment::ActiveModel {
        id: Set(s.id.into_uuid()),
        tenant_id: Set(tenant.into_uuid()),
        order_id: Set(s.order_id.into_uuid()),
        carrier: Set(s.carrier.clone()),
        service: Set(s.service.clone()),
        tracking_number: Set(s.tracking_number.clone()),
        tracking_url: Set(s.tracking_url.clone()),
        lines: Set(serde_json::Value::Array(lines)),
        shipped_at: Set(s.shipped_at),
        delivered_at: Set(None),
    })
    .exec_without_returning(conn)
    .await
    .map_err(store_err)?;
    Ok(())
}

/// The cut-off of the tenant's first-choice warehouse.
pub(crate) async fn first_cutoff(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Cutoff, StoreError> {
    use crate::entities::warehouse;
    let first = warehouse::Entity::find()
        .filter(warehouse::Column::TenantId.eq(tenant.into_uuid()))
        .order_by_asc(warehouse::Column::Priority)
        .order_by_asc(warehouse::Column::Id)
        .one(conn)
        .await
        .map_err(store_err)?;
    Ok(first
        .and_then(|w| Cutoff::from_minute(w.cutoff_minute.into()))
        .unwrap_or(Cutoff::DEFAULT))
}

#[async_trait]
impl OrderQueries for SqlStore {
    async fn get(&self, tenant: TenantId, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            one_order(
                tx,
                tenant_orders(tenant).filter(order_row::Column::Id.eq(id.into_uuid())),
            )
            .await
        })
        .await
    }

    async fn find_by_external_id(
        &self,
        tenant: TenantId,
        channel: &str,
        external_id: &str,
    ) -> Result<Option<Order>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            one_order(tx, by_external(tenant, channel, external_id)).await
        })
        .await
    }

    async fn find_idempotency(
        &self,
        tenant: TenantId,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.in_tenant(tenant, async |tx| idempotency(tx, tenant, key).await)
            .await
    }

    async fn list(
        &self,
        tenant: TenantId,
        filter: &OrderFilter,
        sort: OrderSort,
        page: PageRequest<OrderCursor>,
    ) -> Result<Page<Order, OrderCursor>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            let mut query = filtered(tenant, filter).limit(u64::from(page.limit) + 1);
            query = match sort {
                OrderSort::Newest => {
                    if let Some(after) = &page.after {
                        query = query.filter(order_row::Column::Id.lt(after.id.into_uuid()));
                    }
                    query.order_by_desc(order_row::Column::Id)
                }
                OrderSort::ShipBy => {
                    if let Some(after) = &page.after {
                        query = query.filter(after_in_queue(after));
                    }
                    queue_order(query)
                }
            };
            let rows = query.all(tx).await.map_err(store_err)?;
            let orders = with_lines(tx, rows).await?;
            Ok(Page::from_overfetch(orders, page.limit, OrderCursor::of))
        })
        .await
    }

    async fn timeline(
        &self,
        tenant: TenantId,
        id: OrderId,
        limit: u32,
    ) -> Result<Vec<TimelineEntry>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            let changes = order_status_history::Entity::find()
                .filter(order_status_history::Column::TenantId.eq(tenant.into_uuid()))
                .filter(order_status_history::Column::OrderId.eq(id.into_uuid()))
                .order_by_asc(order_status_history::Column::Id)
                .limit(u64::from(limit))
                .all(tx)
                .await
                .map_err(store_err)?;
            // The order's own events and those of its returns and parcels.
            let mut aggregates = crate::returns::ids_of_order(tx, tenant, id).await?;
            aggregates.extend(
                crate::entities::shipment::Entity::find()
                    .select_only()
                    .column(crate::entities::shipment::Column::Id)
                    .filter(crate::entities::shipment::Column::TenantId.eq(tenant.into_uuid()))
                    .filter(crate::entities::shipment::Column::OrderId.eq(id.into_uuid()))
                    .limit(100)
                    .into_tuple::<uuid::Uuid>()
                    .all(tx)
                    .await
                    .map_err(store_err)?,
            );
            aggregates.push(id.into_uuid());
            let events = outbox_event::Entity::find()
                .filter(outbox_event::Column::TenantId.eq(tenant.into_uuid()))
                .filter(outbox_event::Column::AggregateId.is_in(aggregates))
                .order_by_asc(outbox_event::Column::Id)
                .limit(u64::from(limit))
                .all(tx)
                .await
                .map_err(store_err)?;
            let parse = |s: &str| {
                OrderStatus::parse(s).ok_or_else(|| StoreError::new(format!("bad status {s:?}")))
            };
            let mut entries = Vec::with_capacity(changes.len() + events.len());
            for c in changes {
                entries.push(TimelineEntry {
                    at: c.at,
                    kind: "status_change".into(),
                    from: c.from_status.as_deref().map(parse).transpose()?,
                    to: Some(parse(&c.to_status)?),
                    reason: c.reason,
                    actor: Some(c.actor),
                    payload: None,
                });
            }
            for e in events {
                entries.push(TimelineEntry {
                    at: e.occurred_at,
                    kind: e.event_type,
                    from: None,
                    to: None,
                    reason: None,
                    actor: None,
                    payload: Some(e.payload),
                });
            }
            // Stable: at equal times a status change comes before the event it caused.
            entries.sort_by_key(|e| (e.at, e.kind != "status_change"));
            entries.truncate(limit as usize);
            Ok(entries)
        })
        .await
    }

    async fn shipments(&self, tenant: TenantId, id: OrderId) -> Result<Vec<Shipment>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            shipment::Entity::find()
                .filter(shipment::Column::TenantId.eq(tenant.into_uuid()))
                .filter(shipment::Column::OrderId.eq(id.into_uuid()))
                .order_by_asc(shipment::Column::ShippedAt)
                .order_by_asc(shipment::Column::Id)
                .all(tx)
                .await
                .map_err(store_err)?
                .into_iter()
                .map(to_shipment)
                .collect()
        })
        .await
    }

    async fn get_return(
        &self,
        tenant: TenantId,
        id: ReturnId,
    ) -> Result<Option<ReturnAuthorization>, StoreError> {
        self.in_tenant(tenant, async |tx| crate::returns::get(tx, tenant, id).await)
            .await
    }

    async fn returns(
        &self,
        tenant: TenantId,
        filter: &ReturnFilter,
        page: PageRequest<ReturnId>,
    ) -> Result<Page<ReturnAuthorization, ReturnId>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            crate::returns::list(tx, tenant, filter, page).await
        })
        .await
    }

    async fn waiting_for_stock(
        &self,
        tenant: TenantId,
        skus: &[Sku],
        limit: u32,
    ) -> Result<Vec<OrderId>, StoreError> {
        if skus.is_empty() {
            return Ok(Vec::new());
        }

        self.in_tenant(tenant, async |tx| {
            let waiting = [
                OrderStatus::Backordered,
                OrderStatus::PartiallyAllocated,
                OrderStatus::Picking,
                OrderStatus::Packed,
                OrderStatus::PartiallyShipped,
            ];
            let short = Condition::all().add(
                Expr::col(order_line::Column::Allocated)
                    .lt(Expr::col(order_line::Column::Quantity)),
            );
            let ids: Vec<uuid::Uuid> = queue_order(
                tenant_orders(tenant)
                    .filter(order_row::Column::Status.is_in(waiting.iter().map(|s| s.as_str())))
                    .filter(with_line_or_kit(tenant, skus, short)),
            )
            .select_only()
            .column(order_row::Column::Id)
            .limit(u64::from(limit))
            .into_tuple()
            .all(tx)
            .await
            .map_err(store_err)?;
            Ok(ids.into_iter().map(OrderId::from_uuid).collect())
        })
        .await
    }
}
