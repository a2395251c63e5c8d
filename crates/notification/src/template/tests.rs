use super::*;

fn fields(e: &ValidationErrors) -> Vec<&str> {
    e.0.iter().map(|f| f.field.as_str()).collect()
}

#[test]
fn every_default_template_is_itself_valid_for_its_kind() {
    for kind in MessageKind::ALL {
        let d = Template::default_for(kind);
        assert_eq!(Template::parse(kind, &d.subject, &d.body), Ok(d));
    }
}

#[test]
fn the_default_shipped_message_carries_the_tracking_number_and_link() {
    let t = Template::default_for(MessageKind::OrderShipped);
    let r = t
        .render(&sample_variables(MessageKind::OrderShipped))
        .unwrap();
    assert_eq!(r.subject, "Your order #1001 has shipped");
    assert!(
        r.body.contains("Tracking number: RM123456785GB"),
        "{}",
        r.body
    );
    assert!(r.body.contains("https://track.example/RM123456785GB"));
    assert!(r.body.contains("2 x SOCK-RED-M"));
    assert!(r.body.starts_with("Hello Ada Lovelace,"));
}

#[test]
fn a_syntax_error_is_reported_under_its_field() {
    let e = Template::parse(MessageKind::OrderConfirmed, "Order {{ order_ref", "Hi").unwrap_err();
    assert_eq!(fields(&e), vec!["subject"]);
    let e = Template::parse(
        MessageKind::OrderConfirmed,
        "Order {{ order_ref }}",
        "{% for l in lines %}no end",
    )
    .unwrap_err();
    assert_eq!(fields(&e), vec!["body"]);
}

#[test]
fn a_misspelt_or_foreign_variable_is_refused_at_save_time() {
    let e = Template::parse(MessageKind::OrderConfirmed, "{{ ordr_ref }}", "x").unwrap_err();
    assert_eq!(fields(&e), vec!["subject"]);
    assert!(e.0[0].message.contains("not a valid template"));
    // Tracking exists only for shipped messages.
    let e =
        Template::parse(MessageKind::OrderConfirmed, "ok", "{{ tracking_number }}").unwrap_err();
    assert_eq!(fields(&e), vec!["body"]);
    assert!(Template::parse(MessageKind::OrderShipped, "ok", "{{ tracking_number }}").is_ok());
}

#[test]
fn blank_long_and_multi_line_subjects_are_refused() {
    let e = Template::parse(MessageKind::OrderDelivered, "  ", " ").unwrap_err();
    assert_eq!(fields(&e), vec!["subject", "body"]);
    let long = "x".repeat(MAX_SUBJECT + 1);
    assert!(Template::parse(MessageKind::OrderDelivered, &long, "b").is_err());
    assert!(Template::parse(MessageKind::OrderDelivered, "a\nBcc: x@y.z", "b").is_err());
}

#[test]
fn a_rendered_subject_is_folded_onto_one_line() {
    let t = Template {
        kind: MessageKind::OrderConfirmed,
        subject: "Order {{ order_ref }}".into(),
        body: "b".into(),
    };
    let r = t
        .render(&json!({"order_ref": "#1\r\nBcc: victim@example.com"}))
        .unwrap();
    assert_eq!(r.subject, "Order #1 Bcc: victim@example.com");
    assert!(!r.subject.contains('\n'));
}

#[test]
fn a_missing_value_renders_empty_at_send_time() {
    let t = Template::default_for(MessageKind::OrderShipped);
    let r = t
        .render(&json!({"order_ref": "#7", "customer_name": "Bo", "carrier": "DHL"}))
        .unwrap();
    assert!(r.body.contains("on its way with DHL."), "{}", r.body);
    assert!(!r.body.contains("Tracking number"));
}
