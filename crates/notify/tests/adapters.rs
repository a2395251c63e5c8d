//! The SMTP notifier against a fake SMTP server written here (RFC 5321, no TLS, no AUTH), and
//! the file notifier against a temporary folder.

use kernel::TenantId;
use notification::{MessageKind, Notifier, OutgoingMessage, SendError};
use notify::{FileNotifier, SmtpNotifier};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use uuid::Uuid;

/// One mail transaction as the server saw it.
#[derive(Debug, Clone, Default)]
struct Received {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
}

/// A minimal SMTP server: greeting, EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT.
/// Recipients at `refused.example` get `550`. Returns the port and what it received.
async fn fake_smtp_server() -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write
                    .write_all(b"220 fake.test ESMTP ready\r\n")
                    .await
                    .unwrap();
                let mut current = Received::default();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-fake.test greets you\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
                        b"250 OK\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        current = Received {
                            mail_from: line[10..].trim().to_owned(),
                            ..Default::default()
                        };
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        let to = line[8..].trim().to_owned();
                        if to.contains("@refused.example") {
                            b"550 5.1.1 no such user\r\n"
                        } else {
                            current.rcpt_to.push(to);
                            b"250 OK\r\n"
                        }
                    } else if upper == "DATA" {
                        write
                            .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                            .await
                            .unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            // Dot-stuffing (RFC 5321 4.5.2).
                            data.push_str(l.strip_prefix('.').unwrap_or(&l));
                            data.push('\n');
                        }
                        current.data = data;
                        store.lock().unwrap().push(current.clone());
                        b"250 OK queued\r\n"
                    } else if upper == "RSET" {
                        b"250 OK\r\n"
                    } else if upper == "QUIT" {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"500 unknown command\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, received)
}

fn message(to: &str) -> OutgoingMessage {
    OutgoingMessage {
        tenant_id: TenantId::new(),
        event_id: Uuid::now_v7(),
        kind: MessageKind::OrderShipped,
        to: to.into(),
        to_name: "Ada Lovelace".into(),
        subject: "Your order #1001 has shipped".into(),
        body: "Hello Ada,\n\nTracking number: RM123456785GB\n.leading dot survives\n".into(),
    }
}

#[tokio::test]
async fn the_smtp_notifier_delivers_recipient_subject_and_body_to_the_server() {
    let (port, received) = fake_smtp_server().await;
    let notifier = SmtpNotifier::new(
        &format!("smtp://127.0.0.1:{port}"),
        "Acme Socks <orders@acme.example>",
    )
    .unwrap();
    let m = message("ada@example.com");
    notifier.send(&m).await.unwrap();

    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].mail_from, "<orders@acme.example>");
    assert_eq!(got[0].rcpt_to, vec!["<ada@example.com>"]);
    let data = &got[0].data;
    assert!(
        data.contains("Subject: Your order #1001 has shipped"),
        "{data}"
    );
    assert!(
        data.contains("To: \"Ada Lovelace\" <ada@example.com>"),
        "{data}"
    );
    assert!(
        data.contains("From: \"Acme Socks\" <orders@acme.example>"),
        "{data}"
    );
    assert!(
        data.contains(&format!("Message-ID: <{}@acme.example>", m.event_id)),
        "{data}"
    );
    assert!(data.contains("Tracking number: RM123456785GB"), "{data}");
    assert!(data.contains("\n.leading dot survives"), "{data}");
}

#[tokio::test]
async fn a_recipient_the_server_refuses_is_a_permanent_failure() {
    let (port, received) = fake_smtp_server().await;
    let notifier =
        SmtpNotifier::new(&format!("smtp://127.0.0.1:{port}"), "orders@acme.example").unwrap();
    let err = notifier
        .send(&message("ghost@refused.example"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SendError::Permanent(ref e) if e.contains("no such user")),
        "{err:?}"
    );
    assert!(received.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_unreachable_server_is_a_temporary_failure() {
    // Bind and drop: nothing listens on that port any more.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let notifier =
        SmtpNotifier::new(&format!("smtp://127.0.0.1:{port}"), "orders@acme.example").unwrap();
    let err = notifier
        .send(&message("ada@example.com"))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Transient(_)), "{err:?}");
}

#[tokio::test]
async fn the_file_notifier_writes_one_eml_file_per_message() {
    let dir = std::env::temp_dir().join(format!("tote_t_mail_{}", Uuid::now_v7().simple()));
    let notifier = FileNotifier::new(dir.join("nested"), "orders@acme.example").unwrap();
    let m = message("ada@example.com");
    notifier.send(&m).await.unwrap();
    notifier.send(&message("bob@example.com")).await.unwrap();

    let mut files: Vec<_> = std::fs::read_dir(dir.join("nested"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    let first = &files[0];
    assert!(
        first
            .to_string_lossy()
            .ends_with(&format!("{}.eml", m.event_id))
    );
    let text = std::fs::read_to_string(first).unwrap();
    assert!(
        text.contains("To: \"Ada Lovelace\" <ada@example.com>"),
        "{text}"
    );
    assert!(text.contains("Subject: Your order #1001 has shipped"));
    assert!(text.contains("Tracking number: RM123456785GB"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_bad_recipient_address_is_a_permanent_failure_before_any_io() {
    let dir = std::env::temp_dir().join(format!("tote_t_mail_{}", Uuid::now_v7().simple()));
    let notifier = FileNotifier::new(dir.clone(), "orders@acme.example").unwrap();
    let err = notifier.send(&message("not an address")).await.unwrap_err();
    assert!(matches!(err, SendError::Permanent(_)));
    assert!(!dir.exists());
}
