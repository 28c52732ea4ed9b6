//! The trust boundary of the public API against a real `yaoshi serve --dev`: replay-proof signing
//! (nonces required, ACS3 signs what it must, exact methods and versions, the future-skew bound),
//! a bounded and redacted StringToSign echo, request limits answered with the API's JSON error,
//! slow clients cut off while signed requests keep being served, and unknown AccessKey ids that
//! do not cost a quorum read each. Every refusal is checked to change no state.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use yaoshi_client::{Client, timestamp_at, timestamp_now};

use crate::support::{AK, NodeProcess, assert_api_error, must_be_ready, must_call};

fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn total_keys(c: &Client) -> u64 {
    must_call(c, "ListKeys", &[("PageSize", "100")]).await.body["TotalCount"].as_u64().unwrap()
}

async fn start(extra: &[&str]) -> (tempfile::TempDir, NodeProcess) {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::dev_with(&dir.path().join("node"), extra);
    must_be_ready(&node.client(), Duration::from_secs(30)).await;
    (dir, node)
}

/// Replaces the value of `name` in signed pairs and signs them again.
fn resigned(pairs: &[(String, String)], name: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "Signature" && (k != name || value.is_some()))
        .map(|(k, v)| {
            if k == name {
                (k.clone(), value.unwrap_or_default().to_string())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    let sts = yaoshi_sign::rpc_v1_string_to_sign("POST", &out);
    out.push(("Signature".into(), yaoshi_sign::rpc_v1_signature(crate::support::SK, &sts)));
    out
}

/// `--bootstrap-secret-file`: the bootstrap credential's secret is the file's first line, not
/// YAOSHI_ACCESS_KEY_SECRET (which the harness still sets, and which then no longer signs).
#[tokio::test(flavor = "multi_thread")]
async fn the_bootstrap_secret_comes_from_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bootstrap.secret");
    std::fs::write(&file, "secret-from-a-file\n").unwrap();
    let node = NodeProcess::dev_with(
        &dir.path().join("node"),
        &["--bootstrap-secret-file", file.to_str().unwrap()],
    );
    let from_file = Client::new(&node.endpoint, AK, "secret-from-a-file");
    must_be_ready(&from_file, Duration::from_secs(30)).await;
    let r = node.client().call("ListKeys", &[]).await.unwrap();
    assert_api_error(&r, 400, "SignatureDoesNotMatch");
    assert!(!node.log().contains("secret-from-a-file"), "the secret was logged");
}

/// `--bootstrap-secret-prompt` without a terminal: the secret is the first line of standard input.
#[tokio::test(flavor = "multi_thread")]
async fn the_bootstrap_secret_comes_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("stdin");
    std::fs::write(&input, "secret-from-stdin\nignored\n").unwrap();
    let data = dir.path().join("node");
    let endpoint = yaoshi_testkit::free_addr();
    let process = crate::support::launcher(None)
        .dev_node(
            "node",
            &data,
            &endpoint,
            &["--bootstrap-secret-prompt"],
            &data.with_extension("log"),
        )
        .with_stdin_file(&input);
    std::fs::create_dir_all(&data).unwrap();
    let mut process = process;
    process.start();
    let typed = Client::new(&endpoint, AK, "secret-from-stdin");
    must_be_ready(&typed, Duration::from_secs(30)).await;
    let r = Client::new(&endpoint, AK, crate::support::SK).call("ListKeys", &[]).await.unwrap();
    assert_api_error(&r, 400, "SignatureDoesNotMatch");
    assert!(!process.log().contains("secret-from-stdin"), "the secret was logged");
}

/// A clean restart keeps the nonces the node had seen: a data-plane request and a read accepted
/// before it are refused after it (a crash forgets them: docs/SECURITY.md).
#[tokio::test(flavor = "multi_thread")]
async fn replays_stay_refused_across_a_clean_restart() {
    let (_dir, mut node) = start(&[]).await;
    let c = node.client();
    let created = must_call(&c, "CreateKey", &[]).await;
    let key = created.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let enc = [("KeyId", key.as_str()), ("Plaintext", "aGk=")];
    let enc = c.signed_params("POST", "Encrypt", &enc, &timestamp_now(), &nonce());
    assert_eq!(c.send_params(&enc).await.unwrap().status, 200);
    let read = [("KeyId", key.as_str())];
    let read = c.signed_params("POST", "DescribeKey", &read, &timestamp_now(), &nonce());
    assert_eq!(c.send_params(&read).await.unwrap().status, 200);
    node.terminate();
    node.start();
    must_be_ready(&c, Duration::from_secs(30)).await;
    for pairs in [&enc, &read] {
        assert_api_error(&c.send_params(pairs).await.unwrap(), 400, "SignatureNonceUsed");
    }
    // The saved cache is consumed at start: no old copy lingers for a later crash to bring back.
    assert!(!node.data_dir.join("nonces.bin").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_is_replay_proof_and_exact() {
    let (_dir, node) = start(&[]).await;
    let c = node.client();
    let before = total_keys(&c).await;
    let base = c.signed_params("POST", "CreateKey", &[], &timestamp_now(), &nonce());

    // A signed CreateKey without a nonce, or with an empty one, is refused every time it is sent:
    // no key is created by any of the three sends.
    for variant in [None, Some("")] {
        let pairs = resigned(&base, "SignatureNonce", variant);
        for _ in 0..3 {
            let r = c.send_params(&pairs).await.unwrap();
            assert_api_error(&r, 400, "MissingParameter");
            assert!(r.str("Message").unwrap().contains("SignatureNonce"), "{:?}", r.body);
        }
    }
    let long = "n".repeat(129);
    let r = c.send_params(&resigned(&base, "SignatureNonce", Some(&long))).await.unwrap();
    assert_api_error(&r, 400, "InvalidParameter");

    // SignatureMethod and SignatureVersion are checked exactly, and required.
    for (name, value, code) in [
        ("SignatureVersion", Some("2.0"), "InvalidParameter"),
        ("SignatureVersion", None, "MissingParameter"),
        ("SignatureMethod", Some(""), "MissingParameter"),
        ("SignatureMethod", Some("HMAC-SHA256"), "InvalidParameter"),
        ("SignatureMethod", None, "MissingParameter"),
    ] {
        let r = c.send_params(&resigned(&base, name, value)).await.unwrap();
        assert_api_error(&r, 400, code);
        assert!(r.str("Message").unwrap().contains(name), "{:?}", r.body);
    }

    // Timestamps: more than 5 minutes ahead is refused, just under is accepted.
    let ahead =
        c.signed_params("POST", "ListKeys", &[], &timestamp_at(now_secs() + 6 * 60), &nonce());
    assert_api_error(&c.send_params(&ahead).await.unwrap(), 400, "IllegalTimestamp");
    let near =
        c.signed_params("POST", "ListKeys", &[], &timestamp_at(now_secs() + 4 * 60), &nonce());
    assert_eq!(c.send_params(&near).await.unwrap().status, 200);
    assert_eq!(total_keys(&c).await, before, "no refused request created a key");

    // ACS3: a valid request is served once; its replay is refused.
    let signed = c.acs3_headers("ListKeys", &nonce(), &timestamp_now());
    let r = c.send_acs3(&[], &signed, &[]).await.unwrap();
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_api_error(&c.send_acs3(&[], &signed, &[]).await.unwrap(), 400, "SignatureNonceUsed");

    // ACS3 with the nonce left unsigned: refused, so changing the nonce cannot replay it.
    let create = c.acs3_headers("CreateKey", &nonce(), &timestamp_now());
    for name in ["x-acs-signature-nonce", "host", "x-acs-content-sha256", "x-acs-version"] {
        let (unsigned, signed): (Vec<_>, Vec<_>) =
            create.iter().cloned().partition(|(k, _)| k == name);
        let unsigned: Vec<(String, String)> = if name == "host" { Vec::new() } else { unsigned };
        for attempt in 0..2 {
            let mut unsigned = unsigned.clone();
            if name == "x-acs-signature-nonce" {
                unsigned[0].1 = format!("{}-{attempt}", nonce());
            }
            let r = c.send_acs3(&[], &signed, &unsigned).await.unwrap();
            assert_api_error(&r, 400, "IncompleteSignature");
        }
    }
    // A signed x-acs-content-sha256 that is not the body's hash is refused.
    let mut wrong_hash = c.acs3_headers("CreateKey", &nonce(), &timestamp_now());
    wrong_hash.last_mut().unwrap().1 = yaoshi_sign::sha256_hex(b"another body");
    assert_api_error(&c.send_acs3(&[], &wrong_hash, &[]).await.unwrap(), 400, "InvalidParameter");
    // An empty ACS3 nonce is a missing one.
    let mut empty = c.acs3_headers("CreateKey", "", &timestamp_now());
    empty.retain(|(k, _)| k != "x-acs-signature-nonce");
    empty.push(("x-acs-signature-nonce".into(), String::new()));
    empty.sort();
    assert_api_error(&c.send_acs3(&[], &empty, &[]).await.unwrap(), 400, "MissingParameter");
    assert_eq!(total_keys(&c).await, before, "no refused ACS3 request created a key");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_string_to_sign_echo_is_bounded_and_redacted() {
    let (_dir, node) = start(&[]).await;
    let wrong = Client::new(&node.endpoint, AK, "not-the-secret");
    // A large bad request gets a small answer.
    let description = "d".repeat(60_000);
    let r = wrong.call("CreateKey", &[("Description", &description)]).await.unwrap();
    assert_api_error(&r, 400, "SignatureDoesNotMatch");
    let message = r.str("Message").unwrap();
    assert!(message.len() < 2300, "echo of {} bytes", message.len());
    assert!(message.contains("server string to sign is:POST&%2F&"), "{message}");
    // A Plaintext value never comes back.
    let secret = "c2VjcmV0LXBsYWludGV4dC12YWx1ZQ==";
    let r = wrong.call("Encrypt", &[("KeyId", "k"), ("Plaintext", secret)]).await.unwrap();
    assert_api_error(&r, 400, "SignatureDoesNotMatch");
    let text = r.body.to_string();
    assert!(!text.contains("c2VjcmV0LXBsYWludGV4dC12YWx1ZQ"), "{text}");
    assert!(
        text.contains("Plaintext%253DREDACTED") || text.contains("Plaintext%3DREDACTED"),
        "{text}"
    );
}

/// Sends raw bytes on a fresh connection and reads the answer until the server closes it (or
/// `timeout` passes): (status, JSON body).
async fn raw_exchange(
    endpoint: &str,
    request: &[u8],
    timeout: Duration,
) -> (u16, serde_json::Value) {
    let mut s = TcpStream::connect(endpoint).await.unwrap();
    // The server may answer (and close) before the whole request is written.
    let _ = s.write_all(request).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(timeout, s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no answer: {text:?}"));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = body.split("\r\n\r\n").next().unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(serde_json::Value::Null))
}

fn assert_json_error(answer: &(u16, serde_json::Value), status: u16, code: &str) {
    let (got, body) = answer;
    assert_eq!((*got, body["Code"].as_str()), (status, Some(code)), "{body}");
    assert_eq!(body["RequestId"].as_str().map(str::len), Some(36), "{body}");
    assert_eq!(body["HttpStatus"].as_u64(), Some(u64::from(status)), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_size_limit_is_a_json_error() {
    let (_dir, node) = start(&["--max-body-bytes", "65536"]).await;
    let c = node.client();
    let before = total_keys(&c).await;
    let ep = node.endpoint.as_str();
    let t = Duration::from_secs(10);

    // A body over the limit (declared, and chunked without a declared length).
    let body = vec![b'a'; 70_000];
    let mut req = format!(
        "POST / HTTP/1.1\r\nhost: {ep}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    assert_json_error(&raw_exchange(ep, &req, t).await, 413, "Rejected.RequestTooLarge");
    let mut chunked =
        format!("POST / HTTP/1.1\r\nhost: {ep}\r\ntransfer-encoding: chunked\r\n\r\n").into_bytes();
    for _ in 0..20 {
        chunked.extend_from_slice(format!("{:x}\r\n", 8192).as_bytes());
        chunked.extend_from_slice(&[b'b'; 8192]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    assert_json_error(&raw_exchange(ep, &chunked, t).await, 413, "Rejected.RequestTooLarge");

    // A URI over what HTTP/1.1 parsing allows (hyper refuses it before the router sees it).
    let uri = format!(
        "POST /?Action=CreateKey&Description={} HTTP/1.1\r\nhost: {ep}\r\n\r\n",
        "u".repeat(70_000)
    );
    assert_json_error(&raw_exchange(ep, uri.as_bytes(), t).await, 414, "Rejected.UriTooLong");
    // Headers over the limit, and over what the parser buffers at all.
    for size in [100_000, 2_000_000] {
        let headers =
            format!("POST / HTTP/1.1\r\nhost: {ep}\r\nx-big: {}\r\n\r\n", "h".repeat(size));
        assert_json_error(
            &raw_exchange(ep, headers.as_bytes(), t).await,
            431,
            "Rejected.HeadersTooLarge",
        );
    }
    // Not HTTP at all.
    assert_json_error(&raw_exchange(ep, b"HELLO\r\n\r\n", t).await, 400, "MalformedRequest");

    // The node still serves signed requests afterwards, and nothing was created.
    assert_eq!(total_keys(&c).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_clients_are_cut_off_while_signed_requests_are_served() {
    let (_dir, node) =
        start(&["--header-timeout-ms", "1500", "--request-timeout-ms", "2000"]).await;
    let c = node.client();
    let ep = node.endpoint.clone();

    // 64 slowloris connections: half a request head each, then silence.
    let started = Instant::now();
    let mut loris = Vec::new();
    for _ in 0..64 {
        let mut s = TcpStream::connect(&ep).await.unwrap();
        s.write_all(format!("POST / HTTP/1.1\r\nhost: {ep}\r\nx-slow: ").as_bytes()).await.unwrap();
        loris.push(s);
    }
    // One connection that sends its head but trickles its body.
    let mut slow_body = TcpStream::connect(&ep).await.unwrap();
    slow_body
        .write_all(
            format!("POST / HTTP/1.1\r\nhost: {ep}\r\ncontent-length: 1000\r\n\r\nAction=")
                .as_bytes(),
        )
        .await
        .unwrap();
    // Meanwhile signed requests are served.
    for _ in 0..10 {
        must_call(&c, "ListKeys", &[]).await;
    }
    // Every slowloris connection is closed by the server within the header timeout (plus slack).
    for mut s in loris {
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("slowloris connection still open after 5 s")
            .unwrap_or(0);
        let _ = n;
    }
    let cut_after = started.elapsed();
    assert!(cut_after < Duration::from_secs(5), "{cut_after:?}");
    // The trickled body gets the JSON timeout error.
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), slow_body.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"Code\":\"RequestTimeout\""), "{text}");
    must_call(&c, "ListKeys", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn load_is_shed_by_concurrency_and_principal_rate() {
    let (_dir, node) = start(&[
        "--max-concurrent-requests",
        "2",
        "--request-timeout-ms",
        "3000",
        "--per-principal-rps",
        "20",
    ])
    .await;
    let c = node.client();
    let ep = node.endpoint.clone();
    // Two requests hold both slots while their bodies trickle in.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(&ep).await.unwrap();
        s.write_all(
            format!("POST / HTTP/1.1\r\nhost: {ep}\r\ncontent-length: 100\r\n\r\nA").as_bytes(),
        )
        .await
        .unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = c.call("ListKeys", &[]).await.unwrap();
    assert_api_error(&r, 429, "Rejected.Throttling");
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // One principal over its rate is refused with 429; the bucket refills.
    let mut ok = 0;
    let mut throttled = 0;
    for _ in 0..60 {
        let r = c.call("ListKeys", &[]).await.unwrap();
        match r.status {
            200 => ok += 1,
            _ => {
                assert_api_error(&r, 429, "Rejected.Throttling");
                throttled += 1;
            }
        }
    }
    assert!(ok >= 20 && throttled > 0, "ok {ok}, throttled {throttled}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    must_call(&c, "ListKeys", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_access_key_ids_share_read_barriers() {
    let (_dir, node) = start(&[]).await;
    let metric = || async {
        let text = reqwest::get(format!("http://{}/metrics", node.endpoint))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find(|l| l.starts_with("yaoshi_api_unknown_id_barriers_total"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let before = metric().await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let c = Client::new(&node.endpoint, &format!("made-up-{i}"), "whatever");
        tasks.push(tokio::spawn(async move { c.call("ListKeys", &[]).await.unwrap() }));
    }
    for t in tasks {
        assert_api_error(&t.await.unwrap(), 404, "InvalidAccessKeyId.NotFound");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let barriers = metric().await - before;
    assert!(
        barriers >= 1.0 && barriers <= elapsed.ceil() + 1.0,
        "{barriers} barriers in {elapsed:.2} s"
    );
}
