//! Notification storage on PostgreSQL and SQLite: templates per tenant, the log (one entry per
//! event, with its inbox record), the recipient of an order, and erasure of the address.

mod support;

use chrono::Utc;
use kernel::{PageRequest, TenantId};
use notification::{
    DeliveryStatus, LogEntry, MessageKind, NotificationLog, Recipients, Template, TemplateStore,
};
use order::Address;
use order::service::Placement;
use support::{World, order_of};
use testkit::{Backend, on_both_databases};
use uuid::Uuid;

on_both_databases!(
    templates_are_saved_replaced_listed_and_deleted_per_tenant,
    the_log_keeps_one_entry_per_event_and_lists_newest_first_by_order,
    an_orders_recipient_comes_from_its_ship_to_and_erasure_blanks_the_logged_address,
    the_account_owner_is_the_sign_up_contact_of_that_tenant_only,
    batch_look_ups_and_writes_agree_with_the_single_ones_and_stay_in_the_tenant,
);

async fn the_account_owner_is_the_sign_up_contact_of_that_tenant_only(backend: Backend) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    let owner = w
        .store()
        .account_owner(ctx.tenant_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.name, "Acme");
    assert_eq!(owner.email.as_deref(), Some("ops@acme.example"));
    assert!(
        w.store()
            .account_owner(TenantId::new())
            .await
            .unwrap()
            .is_none()
    );
}

fn template(kind: MessageKind, subject: &str) -> Template {
    Template {
        kind,
        subject: subject.into(),
        body: "Hello {{ customer_name }}".into(),
    }
}

async fn templates_are_saved_replaced_listed_and_deleted_per_tenant(backend: Backend) {
    let w = World::new(backend).await;
    let (a, b) = (w.tenant().await.tenant_id, w.tenant().await.tenant_id);
    let s = w.store();
    s.save_template(a, &template(MessageKind::OrderShipped, "v1"), Utc::now())
        .await
        .unwrap();
    s.save_template(a, &template(MessageKind::OrderShipped, "v2"), Utc::now())
        .await
        .unwrap();
    let found = s
        .find_template(a, MessageKind::OrderShipped)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.subject, "v2");
    assert_eq!(s.overrides(a).await.unwrap().len(), 1);
    assert!(
        s.find_template(b, MessageKind::OrderShipped)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.overrides(b).await.unwrap().is_empty());
    assert!(
        !s.delete_template(b, MessageKind::OrderShipped)
            .await
            .unwrap()
    );
    assert!(
        s.delete_template(a, MessageKind::OrderShipped)
            .await
            .unwrap()
    );
    assert!(
        s.find_template(a, MessageKind::OrderShipped)
            .await
            .unwrap()
            .is_none()
    );
}

fn entry(tenant: TenantId, event: Uuid, order: Uuid, status: DeliveryStatus) -> LogEntry {
    LogEntry {
        id: Uuid::now_v7(),
        tenant_id: tenant,
        event_id: event,
        kind: MessageKind::OrderConfirmed,
        order_id: Some(order),
        recipient: Some("Ada@Example.com".into()),
        status,
        error: None,
        created_at: Utc::now(),
    }
}

async fn the_log_keeps_one_entry_per_event_and_lists_newest_first_by_order(backend: Backend) {
    let w = World::new(backend).await;
    let (a, b) = (w.tenant().await.tenant_id, w.tenant().await.tenant_id);
    let s = w.store();
    let (order1, order2, event) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    assert!(!s.is_recorded(a, event).await.unwrap());
    s.record(&entry(a, event, order1, DeliveryStatus::Sent))
        .await
        .unwrap();
    // A redelivery that raced the first: ignored, the first entry stands.
    s.record(&entry(a, event, order1, DeliveryStatus::Failed))
        .await
        .unwrap();
    assert!(s.is_recorded(a, event).await.unwrap());
    assert!(!s.is_recorded(b, event).await.unwrap());
    for _ in 0..3 {
        s.record(&entry(a, Uuid::now_v7(), order2, DeliveryStatus::Skipped))
            .await
            .unwrap();
    }

    let first = s
        .entries(a, Some(order1), PageRequest::new(None, None))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 1);
    assert_eq!(first.items[0].status, DeliveryStatus::Sent);
    let page = s
        .entries(a, None, PageRequest::new(None, Some(2)))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(page.items[0].id > page.items[1].id, "newest first");
    let rest = s
        .entries(a, None, PageRequest::new(page.next_cursor, Some(2)))
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 2);
    assert_eq!(rest.next_cursor, None);
    assert!(
        s.entries(b, None, PageRequest::new(None, None))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

async fn an_orders_recipient_comes_from_its_ship_to_and_erasure_blanks_the_logged_address(
    backend: Backend,
) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    let other = w.tenant().await.tenant_id;
    w.product_with_stock(&ctx, "A", 5).await;
    let mut draft = order_of(&[("A", 1)]);
    draft.ship_to = Address {
        email: Some("Ada@Example.com".into()),
        ..draft.ship_to
    };
    let Placement::Created(order) = w.orders.place(&ctx, draft, None).await.unwrap() else {
        panic!("a new order")
    };
    let id = order.id.into_uuid();
    let s = w.store();
    let r = s.of_order(ctx.tenant_id, id).await.unwrap().unwrap();
    assert_eq!(r.name, "Grace Hopper");
    assert_eq!(r.email.as_deref(), Some("Ada@Example.com"));
    assert!(s.of_order(other, id).await.unwrap().is_none(), "not yours");

    s.record(&entry(
        ctx.tenant_id,
        Uuid::now_v7(),
        id,
        DeliveryStatus::Sent,
    ))
    .await
    .unwrap();
    s.erase_customer(ctx.tenant_id, "ada@example.com")
        .await
        .unwrap();
    let log = s
        .entries(ctx.tenant_id, Some(id), PageRequest::new(None, None))
        .await
        .unwrap();
    assert_eq!(log.items[0].recipient, None);
    assert_eq!(log.items[0].status, DeliveryStatus::Sent);
    let r = s.of_order(ctx.tenant_id, id).await.unwrap().unwrap();
    assert_eq!(r.email, None);
}

async fn batch_look_ups_and_writes_agree_with_the_single_ones_and_stay_in_the_tenant(
    backend: Backend,
) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    let other = w.tenant().await;
    w.product_with_stock(&ctx, "A", 5).await;
    w.product_with_stock(&other, "A", 5).await;
    let mut with_email = order_of(&[("A", 1)]);
    with_email.ship_to.email = Some("ada@example.com".into());
    let mine = w.orders.place(&ctx, with_email, None).await.unwrap();
    let plain = w
        .orders
        .place(&ctx, order_of(&[("A", 1)]), None)
        .await
        .unwrap();
    let theirs = w
        .orders
        .place(&other, order_of(&[("A", 1)]), None)
        .await
        .unwrap();
    let (m, p, t) = (
        mine.order().id.into_uuid(),
        plain.order().id.into_uuid(),
        theirs.order().id.into_uuid(),
    );
    let s = w.store();
    let found = s
        .of_orders(ctx.tenant_id, &[m, p, t, Uuid::now_v7()])
        .await
        .unwrap();
    assert_eq!(
        found.len(),
        2,
        "another tenant's order and a missing one are absent"
    );
    for id in [m, p] {
        assert_eq!(
            found.get(&id),
            s.of_order(ctx.tenant_id, id).await.unwrap().as_ref()
        );
    }
    assert_eq!(found[&m].email.as_deref(), Some("ada@example.com"));

    // 450 entries: more than one statement's worth; a repeat and another tenant's are ignored.
    let events: Vec<Uuid> = (0..450).map(|_| Uuid::now_v7()).collect();
    let batch: Vec<LogEntry> = events
        .iter()
        .map(|e| entry(ctx.tenant_id, *e, m, DeliveryStatus::Sent))
        .collect();
    s.record_many(&batch).await.unwrap();
    s.record_many(&[
        entry(ctx.tenant_id, events[0], m, DeliveryStatus::Failed),
        entry(other.tenant_id, Uuid::now_v7(), t, DeliveryStatus::Skipped),
    ])
    .await
    .unwrap();
    let unknown = Uuid::now_v7();
    let mut asked = events.clone();
    asked.push(unknown);
    let done = s.recorded_among(ctx.tenant_id, &asked).await.unwrap();
    assert_eq!(done.len(), 450);
    assert!(!done.contains(&unknown));
    assert!(
        s.recorded_among(other.tenant_id, &events)
            .await
            .unwrap()
            .is_empty()
    );
    let (mut cursor, mut logged) = (None, Vec::new());
    loop {
        let page = s
            .entries(ctx.tenant_id, Some(m), PageRequest::new(cursor, Some(100)))
            .await
            .unwrap();
        logged.extend(page.items.into_iter().map(|e| e.status));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(logged.len(), 450);
    assert!(
        logged.iter().all(|s| *s == DeliveryStatus::Sent),
        "the first entry stands"
    );
}
