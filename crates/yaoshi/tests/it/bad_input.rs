//! Bad input gets the error code of docs/DESIGN.md §3 and HTTP status, changes no state, and never crashes the node.

use yaoshi_client::{Client, timestamp_at, timestamp_now};

use crate::support::{AK, assert_api_error, must_call, must_create_key, must_start_dev};

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

async fn total_keys(c: &Client) -> u64 {
    must_call(c, "ListKeys", &[("PageSize", "100")]).await.body["TotalCount"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_spec_errors_and_change_nothing() {
    let (_dir, mut node) = must_start_dev().await;
    let c = node.client();
    let key_id = must_create_key(&c).await;
    let before = total_keys(&c).await;

    // Wrong signature (right AccessKeyId, wrong secret): the message carries the server's
    // StringToSign after a colon, which the classic SDK parses.
    let wrong = Client::new(&node.endpoint, AK, "not-the-secret");
    let r = wrong.call("CreateKey", &[]).await.unwrap();
    assert_api_error(&r, 400, "SignatureDoesNotMatch");
    let msg = r.str("Message").unwrap();
    assert!(msg.contains("server string to sign is:POST&%2F&"), "{msg}");

    // A tampered signature on otherwise valid parameters.
    let mut pairs = c.signed_params("POST", "CreateKey", &[], &timestamp_now(), &nonce());
    pairs.last_mut().unwrap().1 = "AAAAAAAAAAAAAAAAAAAAAAAAAAA=".into();
    assert_api_error(&c.send_params(&pairs).await.unwrap(), 400, "SignatureDoesNotMatch");

    // Unknown AccessKeyId.
    let stranger = Client::new(&node.endpoint, "nobody", "whatever");
    assert_api_error(
        &stranger.call("CreateKey", &[]).await.unwrap(),
        404,
        "InvalidAccessKeyId.NotFound",
    );

    // Timestamps outside the 15-minute window, and malformed ones.
    for ts in [
        timestamp_at(now_secs() - 16 * 60),
        timestamp_at(now_secs() + 16 * 60),
        "yesterday".to_string(),
    ] {
        let pairs = c.signed_params("POST", "CreateKey", &[], &ts, &nonce());
        assert_api_error(&c.send_params(&pairs).await.unwrap(), 400, "IllegalTimestamp");
    }
    // Fractional seconds inside the window are fine.
    let ts = timestamp_now().replace('Z', ".123Z");
    let pairs = c.signed_params("POST", "DescribeKey", &[("KeyId", &key_id)], &ts, &nonce());
    assert_eq!(c.send_params(&pairs).await.unwrap().status, 200);

    // A reused SignatureNonce: the write happens once, the replay is refused (write and read).
    let n = nonce();
    let first = c.signed_params("POST", "CreateKey", &[], &timestamp_now(), &n);
    assert_eq!(c.send_params(&first).await.unwrap().status, 200);
    assert_api_error(&c.send_params(&first).await.unwrap(), 400, "SignatureNonceUsed");
    let again =
        c.signed_params("POST", "CreateKey", &[("Description", "other")], &timestamp_now(), &n);
    assert_api_error(&c.send_params(&again).await.unwrap(), 400, "SignatureNonceUsed");
    let n = nonce();
    let read = c.signed_params("POST", "DescribeKey", &[("KeyId", &key_id)], &timestamp_now(), &n);
    assert_eq!(c.send_params(&read).await.unwrap().status, 200);
    assert_api_error(&c.send_params(&read).await.unwrap(), 400, "SignatureNonceUsed");
    let expected = before + 1;

    // Missing required parameters.
    let r = c.call("Encrypt", &[("KeyId", &key_id)]).await.unwrap();
    assert_api_error(&r, 400, "MissingParameter");
    assert_eq!(r.str("Message"), Some("The parameter \"Plaintext\" is needed but not provided."));
    assert_api_error(&c.call("DescribeKey", &[]).await.unwrap(), 400, "MissingParameter");
    assert_api_error(&c.call("Decrypt", &[]).await.unwrap(), 400, "MissingParameter");

    // Unknown action.
    let r = c.call("MakeCoffee", &[]).await.unwrap();
    assert_api_error(&r, 400, "InvalidParameter");
    assert!(r.str("Message").unwrap().contains("Action"));

    // Malformed Base64, and well-formed Base64 that is not a blob.
    for blob in ["!!!not-base64!!!", "aGVsbG8=", ""] {
        let r = c.call("Decrypt", &[("CiphertextBlob", blob)]).await.unwrap();
        let want = if blob.is_empty() { "MissingParameter" } else { "InvalidParameter" };
        assert_api_error(&r, 400, want);
    }

    // Invalid values.
    assert_api_error(
        &c.call("CreateKey", &[("KeySpec", "Bogus")]).await.unwrap(),
        400,
        "InvalidParameter",
    );
    assert_api_error(
        &c.call("CreateKey", &[("KeyUsage", "SIGN/VERIFY")]).await.unwrap(),
        400,
        "InvalidParameter",
    );
    let long = "x".repeat(8193);
    assert_api_error(
        &c.call("CreateKey", &[("Description", &long)]).await.unwrap(),
        400,
        "InvalidParameter",
    );
    for size in ["0", "101", "ten"] {
        assert_api_error(
            &c.call("ListKeys", &[("PageSize", size)]).await.unwrap(),
            400,
            "InvalidParameter",
        );
    }
    assert_api_error(
        &c.call(
            "Encrypt",
            &[("KeyId", &key_id), ("Plaintext", "aGk="), ("EncryptionContext", "[1]")],
        )
        .await
        .unwrap(),
        400,
        "InvalidParameter",
    );
    let big = "A".repeat(8200);
    assert_api_error(
        &c.call("Encrypt", &[("KeyId", &key_id), ("Plaintext", &big)]).await.unwrap(),
        400,
        "InvalidParameter",
    );
    assert_api_error(
        &c.call("DescribeKey", &[("KeyId", "00000000-0000-0000-0000-000000000000")]).await.unwrap(),
        404,
        "Forbidden.KeyNotFound",
    );
    assert_api_error(
        &c.call("DescribeKey", &[("KeyId", "alias/none")]).await.unwrap(),
        404,
        "Forbidden.AliasNotFound",
    );
    assert_api_error(
        &c.call("ListKeys", &[("RegionId", "mars-1")]).await.unwrap(),
        400,
        "InvalidParameter",
    );

    // Garbage that is not even a signed request.
    let raw = c
        .send_params(&[("%zz".into(), "\u{0}".into()), ("Action".into(), "CreateKey".into())])
        .await
        .unwrap();
    assert_eq!(raw.status / 100, 4, "{:?}", raw.body);
    assert!(raw.code().is_some());

    // Nothing above changed state, and the node is alive.
    assert_eq!(total_keys(&c).await, expected);
    assert!(node.is_running());
}
