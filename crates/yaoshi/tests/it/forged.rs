//! Commands forged by a caller of the internal gRPC port, against a real one-voter node: scheduled
//! work (a PurgeKey claiming its time has come) is refused outright, and a forwarded write is
//! given the leader's clock when its claimed time is further off than the skew bound, so no
//! caller can make a deletion due early.

use std::time::Duration;

use yaoshi_model::{AccessKeyId, Command, CommandEnvelope, CommandMeta, KeyId};
use yaoshi_raft::pb::{RaftRequest, RaftServiceClient};

use crate::support::{NodeProcess, free_port, must_be_ready, must_call, must_create_key};

fn envelope(command: Command, at_ms: i64) -> CommandEnvelope {
    CommandEnvelope {
        meta: CommandMeta {
            request_id: uuid::Uuid::new_v4().to_string(),
            principal: Some(AccessKeyId::new(crate::support::AK)),
            nonce: Some(uuid::Uuid::new_v4().simple().to_string()),
            at_ms,
        },
        command,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_scheduled_commands_and_times_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (http, raft) = (free_port(), free_port());
    let config = dir.path().join("one-voter-config");
    std::fs::write(
        &config,
        format!(
            "node_id = 1\nlisten = \"127.0.0.1:{http}\"\nraft_listen = \"127.0.0.1:{raft}\"\n\
             data_dir = \"{}\"\ndomain_key_env = \"YAOSHI_DOMAIN_KEY\"\n\
             [[members]]\nid = 1\nraft_addr = \"127.0.0.1:{raft}\"\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let key = yaoshi_crypto::DomainKey::generate().to_hex();
    let node = NodeProcess::with_config(
        &config,
        &dir.path().join("data"),
        &format!("127.0.0.1:{http}"),
        &key,
        &[],
    );
    let c = node.client();
    must_be_ready(&c, Duration::from_secs(60)).await;
    let key_id = must_create_key(&c).await;
    must_call(&c, "ScheduleKeyDeletion", &[("KeyId", &key_id), ("PendingWindowInDays", "7")]).await;
    let described = must_call(&c, "DescribeKey", &[("KeyId", &key_id)]).await;
    let delete_date = described.body["KeyMetadata"]["DeleteDate"].as_str().unwrap().to_string();

    let mut grpc = RaftServiceClient::connect(format!("http://127.0.0.1:{raft}")).await.unwrap();
    let far_future = i64::MAX / 2;
    let forged = [
        // Purge "now": the caller claims the deletion date has passed.
        Command::PurgeKey {
            key_id: KeyId::new(key_id.clone()),
            expected_delete_ms: 0,
            aliases: vec![],
        },
        Command::ExpireKeyMaterial { key_id: KeyId::new(key_id.clone()), expected_expire_ms: 0 },
        Command::PurgeImportTokens { tokens: vec!["t".into()] },
    ];
    for command in forged {
        let payload = yaoshi_store::codec::encode(&envelope(command, far_future));
        let status = grpc
            .client_write(RaftRequest { region: "cn-hangzhou".into(), payload })
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::PermissionDenied, "{status:?}");
    }
    // A forwarded user write carrying a forged time is applied at the leader's time: a second
    // schedule after a cancel gets a DeleteDate 7 days from now, not from the forged time.
    must_call(&c, "CancelKeyDeletion", &[("KeyId", &key_id)]).await;
    let schedule =
        Command::ScheduleKeyDeletion { key_id: KeyId::new(key_id.clone()), pending_window_days: 7 };
    let payload = yaoshi_store::codec::encode(&envelope(schedule, far_future));
    grpc.client_write(RaftRequest { region: "cn-hangzhou".into(), payload }).await.unwrap();
    let rescheduled = must_call(&c, "DescribeKey", &[("KeyId", &key_id)]).await;
    let again = rescheduled.body["KeyMetadata"]["DeleteDate"].as_str().unwrap().to_string();
    let gap = unix(&again) - unix(&delete_date);
    assert!((0..600).contains(&gap), "{delete_date} then {again}");
    // And a window outside 7–30 days is refused in apply.
    must_call(&c, "CancelKeyDeletion", &[("KeyId", &key_id)]).await;
    let short =
        Command::ScheduleKeyDeletion { key_id: KeyId::new(key_id.clone()), pending_window_days: 1 };
    let payload = yaoshi_store::codec::encode(&envelope(short, far_future));
    grpc.client_write(RaftRequest { region: "cn-hangzhou".into(), payload }).await.unwrap();
    let after = must_call(&c, "DescribeKey", &[("KeyId", &key_id)]).await;
    assert_eq!(after.body["KeyMetadata"]["KeyState"], "Enabled", "{:?}", after.body);
    drop(node);
}

fn unix(date: &str) -> i64 {
    time::OffsetDateTime::parse(date, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{date}: {e}"))
        .unix_timestamp()
}
