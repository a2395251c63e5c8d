use super::*;
use crate::ports::{MockNotifier, MockRecipients, MockTemplateStore, Recipient};
use crate::test_support::envelope_for;
use async_trait::async_trait;
use kernel::FixedClock;
use serde_json::json;
use std::sync::Mutex;

/// The log, in memory: what was recorded, and `is_recorded` answers from it.
#[derive(Default)]
struct MemoryLog(Mutex<Vec<LogEntry>>);

#[async_trait]
impl NotificationLog for MemoryLog {
    async fn is_recorded(&self, tenant: TenantId, event_id: Uuid) -> Result<bool, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .iter()
            .any(|e| e.tenant_id == tenant && e.event_id == event_id))
    }
    async fn record(&self, entry: &LogEntry) -> Result<(), StoreError> {
        self.0.lock().unwrap().push(entry.clone());
        Ok(())
    }
    async fn entries(
        &self,
        tenant: TenantId,
        order_id: Option<Uuid>,
        page: PageRequest<Uuid>,
    ) -> Result<Page<LogEntry, Uuid>, StoreError> {
        let rows = self
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.tenant_id == tenant && order_id.is_none_or(|o| e.order_id == Some(o)))
            .cloned()
            .collect();
        Ok(Page::from_overfetch(rows, page.limit, |e: &LogEntry| e.id))
    }
}

type Service =
    NotificationService<MockTemplateStore, MockRecipients, MockNotifier, MemoryLog, FixedClock>;

fn service(t: MockTemplateStore, r: MockRecipients, n: MockNotifier) -> Service {
    NotificationService::new(
        t,
        r,
        n,
        MemoryLog::default(),
        FixedClock::at(chrono::Utc::now()),
    )
}

fn ada(email: Option<&str>) -> MockRecipients {
    let mut r = MockRecipients::new();
    let email = email.map(str::to_owned);
    r.expect_of_order().returning(move |_, _| {
        Ok(Some(Recipient {
            name: "Ada Lovelace".into(),
            email: email.clone(),
        }))
    });
    r
}

fn no_overrides() -> MockTemplateStore {
    let mut t = MockTemplateStore::new();
    t.expect_find_template().returning(|_, _| Ok(None));
    t
}

fn created(tenant: TenantId, order_id: Uuid) -> EventEnvelope {
    envelope_for(
        tenant,
        "order.created",
        json!({"order_id": order_id, "channel": "api", "external_id": "#42",
               "total": {"amount_minor": 1000, "currency": "EUR"},
               "lines": [{"line_no": 1, "sku": "MUG", "quantity": 1}]}),
    )
}

fn sent_to(
    n: &mut MockNotifier,
    outcome: fn() -> Result<(), SendError>,
) -> Arc<Mutex<Vec<OutgoingMessage>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    n.expect_send().returning(move |m| {
        s.lock().unwrap().push(m.clone());
        outcome()
    });
    seen
}

use std::sync::Arc;

#[tokio::test]
async fn an_order_with_an_email_gets_its_confirmation_once_and_it_is_logged_as_sent() {
    let mut n = MockNotifier::new();
    let seen = sent_to(&mut n, || Ok(()));
    let svc = service(no_overrides(), ada(Some("ada@example.com")), n);
    let (tenant, order) = (TenantId::new(), Uuid::now_v7());
    let event = created(tenant, order);

    let outcome = svc.notify_for_event(&event).await.unwrap();
    assert_eq!(outcome, Outcome::Recorded(DeliveryStatus::Sent));
    let again = svc.notify_for_event(&event).await.unwrap();
    assert_eq!(again, Outcome::AlreadyDone);

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "a redelivered event sends nothing more");
    assert_eq!(seen[0].to, "ada@example.com");
    assert_eq!(seen[0].subject, "Your order #42 is confirmed");
    assert!(seen[0].body.contains("Hello Ada Lovelace"));
    assert!(seen[0].body.contains("Total: 10.00 EUR"));
    let log = svc
        .log(tenant, Some(order), PageRequest::new(None, None))
        .await
        .unwrap();
    assert_eq!(log.items.len(), 1);
    assert_eq!(log.items[0].recipient.as_deref(), Some("ada@example.com"));
    assert_eq!(log.items[0].event_id, event.id.into_uuid());
}

#[tokio::test]
async fn an_order_without_an_email_is_skipped_not_failed() {
    let mut n = MockNotifier::new();
    n.expect_send().never();
    let svc = service(MockTemplateStore::new(), ada(None), n);
    let tenant = TenantId::new();
    let outcome = svc
        .notify_for_event(&created(tenant, Uuid::now_v7()))
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Recorded(DeliveryStatus::Skipped));
    let log = svc
        .log(tenant, None, PageRequest::new(None, None))
        .await
        .unwrap();
    assert_eq!(log.items[0].recipient, None);
    assert_eq!(log.items[0].error.as_deref(), Some("no e-mail address"));
}

#[tokio::test]
async fn the_tenants_own_template_is_used_instead_of_the_default() {
    let mut t = MockTemplateStore::new();
    t.expect_find_template()
        .withf(|_, kind| *kind == MessageKind::OrderConfirmed)
        .returning(|_, kind| {
            Ok(Some(Template {
                kind,
                subject: "Thanks {{ customer_name }}! ({{ order_ref }})".into(),
                body: "{{ lines | length }} line(s)".into(),
            }))
        });
    let mut n = MockNotifier::new();
    let seen = sent_to(&mut n, || Ok(()));
    let svc = service(t, ada(Some("ada@example.com")), n);
    svc.notify_for_event(&created(TenantId::new(), Uuid::now_v7()))
        .await
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].subject, "Thanks Ada Lovelace! (#42)");
    assert_eq!(seen[0].body, "1 line(s)");
}

#[tokio::test]
async fn a_refused_message_is_logged_as_failed_and_a_temporary_failure_is_retried() {
    let mut n = MockNotifier::new();
    sent_to(&mut n, || {
        Err(SendError::Permanent("550 no such user".into()))
    });
    let svc = service(no_overrides(), ada(Some("ghost@example.com")), n);
    let tenant = TenantId::new();
    let outcome = svc
        .notify_for_event(&created(tenant, Uuid::now_v7()))
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Recorded(DeliveryStatus::Failed));
    let log = svc
        .log(tenant, None, PageRequest::new(None, None))
        .await
        .unwrap();
    assert!(log.items[0].error.as_deref().unwrap().contains("550"));

    let mut n = MockNotifier::new();
    sent_to(&mut n, || {
        Err(SendError::Transient("connection refused".into()))
    });
    let svc = service(no_overrides(), ada(Some("ada@example.com")), n);
    let err = svc
        .notify_for_event(&created(tenant, Uuid::now_v7()))
        .await
        .unwrap_err();
    assert!(matches!(err, NotificationError::Retry(_)));
    let log = svc
        .log(tenant, None, PageRequest::new(None, None))
        .await
        .unwrap();
    assert!(
        log.items.is_empty(),
        "nothing recorded, so the redelivery sends"
    );
}

#[tokio::test]
async fn events_that_tell_the_customer_nothing_touch_no_port() {
    let svc = service(
        MockTemplateStore::new(),
        MockRecipients::new(),
        MockNotifier::new(),
    );
    let e = envelope_for(
        TenantId::new(),
        "inventory.low_stock",
        json!({"sku": "MUG"}),
    );
    assert_eq!(
        svc.notify_for_event(&e).await.unwrap(),
        Outcome::NotApplicable
    );
}

#[tokio::test]
async fn templates_list_every_kind_with_the_tenants_override_marked() {
    let mut t = MockTemplateStore::new();
    t.expect_overrides().returning(|_| {
        Ok(vec![Template {
            kind: MessageKind::OrderShipped,
            subject: "Shipped!".into(),
            body: "b".into(),
        }])
    });
    let svc = service(t, MockRecipients::new(), MockNotifier::new());
    let views = svc.templates(TenantId::new()).await.unwrap();
    let kinds: Vec<_> = views
        .iter()
        .map(|v| (v.template.kind, v.customised))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (MessageKind::OrderConfirmed, false),
            (MessageKind::OrderShipped, true),
            (MessageKind::OrderDelivered, false),
            (MessageKind::ReturnReceived, false),
            (MessageKind::WebhookDisabled, false),
        ]
    );
    assert_eq!(views[1].template.subject, "Shipped!");
}

#[tokio::test]
async fn saving_a_bad_template_or_an_unknown_kind_is_a_validation_error_and_saves_nothing() {
    let mut t = MockTemplateStore::new();
    t.expect_save_template().never();
    let svc = service(t, MockRecipients::new(), MockNotifier::new());
    let tenant = TenantId::new();
    match svc.save_template(tenant, "order_lost", "s", "b").await {
        Err(NotificationError::Invalid(e)) => assert_eq!(e.0[0].field, "kind"),
        other => panic!("{other:?}"),
    }
    match svc
        .save_template(tenant, "order_confirmed", "s", "{% if %}")
        .await
    {
        Err(NotificationError::Invalid(e)) => assert_eq!(e.0[0].field, "body"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_good_template_is_saved_and_reset_brings_back_the_default() {
    let mut t = MockTemplateStore::new();
    t.expect_save_template()
        .withf(|_, tpl, _| tpl.kind == MessageKind::OrderDelivered && tpl.subject == "Here!")
        .times(1)
        .returning(|_, _, _| Ok(()));
    t.expect_delete_template()
        .withf(|_, kind| *kind == MessageKind::OrderDelivered)
        .times(1)
        .returning(|_, _| Ok(true));
    let svc = service(t, MockRecipients::new(), MockNotifier::new());
    let tenant = TenantId::new();
    let saved = svc
        .save_template(
            tenant,
            "order_delivered",
            " Here! ",
            "Delivered {{ order_ref }}",
        )
        .await
        .unwrap();
    assert!(saved.customised);
    let reset = svc.reset_template(tenant, "order_delivered").await.unwrap();
    assert!(!reset.customised);
    assert_eq!(
        reset.template,
        Template::default_for(MessageKind::OrderDelivered)
    );
}

#[tokio::test]
async fn a_disabled_webhook_tells_the_account_owner_not_a_customer() {
    let mut n = MockNotifier::new();
    let seen = sent_to(&mut n, || Ok(()));
    let mut r = MockRecipients::new();
    r.expect_of_order().never();
    r.expect_account_owner().times(1).returning(|_| {
        Ok(Some(Recipient {
            name: "Acme Socks".into(),
            email: Some("owner@acme.example".into()),
        }))
    });
    let svc = service(no_overrides(), r, n);
    let tenant = TenantId::new();
    let event = envelope_for(
        tenant,
        "webhook.disabled",
        json!({"subscription_id": Uuid::now_v7(), "url": "https://hooks.acme.example/tote",
               "last_error": "HTTP 503", "action": "fix the endpoint"}),
    );

    let outcome = svc.notify_for_event(&event).await.unwrap();
    assert_eq!(outcome, Outcome::Recorded(DeliveryStatus::Sent));
    assert_eq!(
        svc.notify_for_event(&event).await.unwrap(),
        Outcome::AlreadyDone
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].to, "owner@acme.example");
    assert_eq!(seen[0].kind, MessageKind::WebhookDisabled);
    assert_eq!(
        seen[0].subject,
        "Tote turned off your webhook endpoint https://hooks.acme.example/tote"
    );
    assert!(
        seen[0].body.contains("Hello Acme Socks"),
        "{}",
        seen[0].body
    );
    assert!(seen[0].body.contains("HTTP 503"), "{}", seen[0].body);
    let log = svc
        .log(tenant, None, PageRequest::new(None, None))
        .await
        .unwrap();
    assert_eq!(log.items[0].order_id, None);
}

#[tokio::test]
async fn a_disabled_webhook_event_without_its_url_is_malformed() {
    let mut r = MockRecipients::new();
    r.expect_account_owner().never();
    let svc = service(MockTemplateStore::new(), r, MockNotifier::new());
    let event = envelope_for(
        TenantId::new(),
        "webhook.disabled",
        json!({"last_error": "x"}),
    );
    assert!(matches!(
        svc.notify_for_event(&event).await,
        Err(NotificationError::Malformed(_))
    ));
}

fn recipient(email: Option<&str>) -> Recipient {
    Recipient {
        name: "Ada Lovelace".into(),
        email: email.map(str::to_owned),
    }
}

#[tokio::test]
async fn a_batch_shares_its_look_ups_and_sends_each_message_once() {
    let tenant = TenantId::new();
    let [o1, o2, o3, o4, o5] = [(); 5].map(|_| Uuid::now_v7());
    let mut n = MockNotifier::new();
    let seen = sent_to(&mut n, || Ok(()));
    let mut r = MockRecipients::new();
    r.expect_of_order()
        .times(1)
        .returning(|_, _| Ok(Some(recipient(Some("one@example.com")))));
    // One read for every order of the batch; o4 is not the tenant's, o3 has no e-mail.
    r.expect_of_orders().times(1).returning(move |_, ids| {
        assert_eq!(
            ids,
            [o2, o3, o4, o5],
            "the already-logged event's order is not read"
        );
        Ok([
            (o2, recipient(Some("two@example.com"))),
            (o3, recipient(None)),
            (o5, recipient(Some("five@example.com"))),
        ]
        .into_iter()
        .collect())
    });
    let mut t = MockTemplateStore::new();
    // Once for the single event, once for the whole batch.
    t.expect_find_template().times(2).returning(|_, _| Ok(None));
    let svc = service(t, r, n);

    let first = created(tenant, o1);
    svc.notify_for_event(&first).await.unwrap();
    let unrelated = envelope_for(tenant, "inventory.changed", json!({}));
    let batch = [
        first.clone(),
        created(tenant, o2),
        unrelated,
        created(tenant, o3),
        created(tenant, o4),
        created(tenant, o5),
    ];
    let refs: Vec<&EventEnvelope> = batch.iter().collect();
    assert_eq!(svc.notify_batch(tenant, &refs).await.unwrap(), 4);
    // Redelivered: everything is logged, so nothing is read or sent again.
    assert_eq!(svc.notify_batch(tenant, &refs).await.unwrap(), 0);

    let to: Vec<String> = seen.lock().unwrap().iter().map(|m| m.to.clone()).collect();
    assert_eq!(
        to,
        ["one@example.com", "two@example.com", "five@example.com"]
    );
    let log = svc
        .log(tenant, None, PageRequest::new(None, None))
        .await
        .unwrap();
    let mut statuses: Vec<(Option<Uuid>, DeliveryStatus, Option<String>)> = log
        .items
        .iter()
        .map(|e| (e.order_id, e.status, e.error.clone()))
        .collect();
    statuses.sort_by_key(|(o, _, _)| *o);
    assert_eq!(
        statuses,
        [
            (Some(o1), DeliveryStatus::Sent, None),
            (Some(o2), DeliveryStatus::Sent, None),
            (
                Some(o3),
                DeliveryStatus::Skipped,
                Some("no e-mail address".into())
            ),
            (
                Some(o4),
                DeliveryStatus::Skipped,
                Some("order not found".into())
            ),
            (Some(o5), DeliveryStatus::Sent, None),
        ]
    );
}

#[tokio::test]
async fn a_temporary_failure_mid_batch_keeps_what_was_sent_and_the_retry_sends_only_the_rest() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let tenant = TenantId::new();
    let orders = [(); 3].map(|_| Uuid::now_v7());
    let emails = [
        "first@example.com",
        "second@example.com",
        "third@example.com",
    ];
    let mut n = MockNotifier::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (s, failed_once) = (seen.clone(), Arc::new(AtomicBool::new(false)));
    n.expect_send().returning(move |m| {
        if m.to == "second@example.com" && !failed_once.swap(true, Ordering::SeqCst) {
            return Err(SendError::Transient("421 try again later".into()));
        }
        s.lock().unwrap().push(m.to.clone());
        Ok(())
    });
    let mut r = MockRecipients::new();
    r.expect_of_orders().returning(move |_, ids| {
        Ok(ids
            .iter()
            .map(|id| {
                let i = orders.iter().position(|o| o == id).unwrap();
                (*id, recipient(Some(emails[i])))
            })
            .collect())
    });
    let svc = service(no_overrides(), r, n);
    let batch = orders.map(|o| created(tenant, o));
    let refs: Vec<&EventEnvelope> = batch.iter().collect();

    let err = svc.notify_batch(tenant, &refs).await.unwrap_err();
    assert!(matches!(err, NotificationError::Retry(_)));
    let log = svc
        .log(tenant, None, PageRequest::new(None, None))
        .await
        .unwrap();
    assert_eq!(
        log.items.len(),
        1,
        "what was sent before the failure is logged"
    );
    assert_eq!(log.items[0].order_id, Some(orders[0]));

    assert_eq!(svc.notify_batch(tenant, &refs).await.unwrap(), 2);
    assert_eq!(
        *seen.lock().unwrap(),
        emails,
        "each customer hears exactly once"
    );
}
