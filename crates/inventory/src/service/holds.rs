//! Checkout holds: reserve for a few minutes, then confirm (as an order), release or expire.

use super::InventoryService;
use crate::InventoryError;
use crate::allocation::LineRequest;
use crate::hold::{Hold, NewHold};
use crate::ports::{InventoryUnitOfWork, ProductRepository, StockQueries, WarehouseRepository};
use crate::reservations::{self, MovementMeta};
use chrono::{DateTime, Utc};
use kernel::{Clock, EventEnvelope, HoldId, RequestContext, TenantId};
use serde_json::json;

fn hold_event(
    event_type: &str,
    hold: &Hold,
    at: DateTime<Utc>,
    ctx: Option<&RequestContext>,
) -> EventEnvelope {
    EventEnvelope::new(
        event_type,
        hold.tenant_id,
        at,
        "reservation",
        hold.id.into_uuid(),
        at.timestamp_micros(),
        json!({
            "reservation_id": hold.id,
            "status": hold.status,
            "reference": hold.reference,
            "expires_at": hold.expires_at,
            "lines": hold.lines,
        }),
        ctx.map(|c| c.correlation_id),
    )
}

impl<P, W, S, U, C> InventoryService<P, W, S, U, C>
where
    P: ProductRepository,
    W: WarehouseRepository,
    S: StockQueries,
    U: InventoryUnitOfWork,
    C: Clock,
{
    /// Holds every line in full or nothing at all (`InsufficientStock`).
    pub async fn place_hold(
        &self,
        ctx: &RequestContext,
        draft: NewHold,
    ) -> Result<Hold, InventoryError> {
        let now = self.clock.now();
        let hold = draft.validate(HoldId::new(), ctx.tenant_id, now)?;
        let requests: Vec<LineRequest> = hold
            .lines
            .iter()
            .map(|l| LineRequest {
                line_no: l.line_no,
                sku: l.sku.clone(),
                quantity: l.quantity,
            })
            .collect();
        let meta = MovementMeta::for_request(ctx, hold.owner(), now);
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        reservations::reserve(tx.as_mut(), &requests, &meta, true).await?;
        tx.insert_hold(&hold).await?;
        tx.append_events(&[hold_event("reservation.created", &hold, now, Some(ctx))])
            .await?;
        tx.commit().await?;
        Ok(hold)
    }

    pub async fn hold(&self, ctx: &RequestContext, id: HoldId) -> Result<Hold, InventoryError> {
        self.stock
            .hold(ctx.tenant_id, id)
            .await?
            .ok_or(InventoryError::HoldNotFound(id))
    }

    /// The shopper left: the units are available again at once.
    pub async fn release_hold(
        &self,
        ctx: &RequestContext,
        id: HoldId,
    ) -> Result<Hold, InventoryError> {
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut hold = tx
            .lock_hold(id)
            .await?
            .ok_or(InventoryError::HoldNotFound(id))?;
        hold.release(now)?;
        let meta = MovementMeta::for_request(ctx, hold.owner(), now);
        reservations::release(tx.as_mut(), &meta).await?;
        tx.save_hold(&hold).await?;
        tx.append_events(&[hold_event("reservation.released", &hold, now, Some(ctx))])
            .await?;
        tx.commit().await?;
        Ok(hold)
    }

    /// Releases holds past their time, at most `limit` per call; returns how many it expired.
    /// Each hold is its own transaction, so one failure does not hold back the rest.
    pub async fn expire_holds(&self, limit: u32) -> Result<usize, InventoryError> {
        let now = self.clock.now();
        let due = self.uow.claim_expired_holds(now, limit).await?;
        let mut expired = 0;
        for (tenant, id) in due {
            if self.expire_one(tenant, id, now).await? {
                expired += 1;
            }
        }
        Ok(expired)
    }

    async fn expire_one(
        &self,
        tenant: TenantId,
        id: HoldId,
        now: DateTime<Utc>,
    ) -> Result<bool, InventoryError> {
        let mut tx = self.uow.begin(tenant).await?;
        let Some(mut hold) = tx.lock_hold(id).await? else {
            return Ok(false);
        };
        // Confirmed or released since it was claimed: nothing to do.
        if !hold.expire(now) {
            return Ok(false);
        }
        let meta = MovementMeta {
            tenant_id: tenant,
            reference: hold.owner(),
            actor: "system:hold-expiry".into(),
            at: now,
            correlation_id: None,
        };
        reservations::release(tx.as_mut(), &meta).await?;
        tx.save_hold(&hold).await?;
        tx.append_events(&[hold_event("reservation.expired", &hold, now, None)])
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}
