//! HTTPS on the public API of a real node: answers over TLS (JSON errors included), nothing over
//! plain HTTP on that port, a new certificate picked up after SIGHUP without a restart, and a
//! plaintext non-loopback bind refused at startup.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::NodeProcess;

/// A self-signed certificate for `localhost`, written as `name.pem` / `name.key` in `dir`;
/// returns its DER.
fn self_signed(dir: &Path, name: &str) -> Vec<u8> {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    // Write the key first and rename both into place, so a reload never reads a mismatched pair.
    for (ext, text) in [("key", signing_key.serialize_pem()), ("pem", cert.pem())] {
        let tmp = dir.join(format!("{name}.{ext}.tmp"));
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, dir.join(format!("{name}.{ext}"))).unwrap();
    }
    cert.der().to_vec()
}

fn client(trusted: &[&[u8]]) -> reqwest::Client {
    let mut b = reqwest::Client::builder().tls_info(true).timeout(Duration::from_secs(5));
    for der in trusted {
        b = b.add_root_certificate(reqwest::Certificate::from_der(der).unwrap());
    }
    b.build().unwrap()
}

/// The certificate the server presented, and the JSON answer to an unsigned request.
async fn get(client: &reqwest::Client, port: &str) -> Result<(Vec<u8>, serde_json::Value), String> {
    let r = client
        .get(format!("https://localhost:{port}/?Action=DescribeRegions"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let cert = r
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .map(<[u8]>::to_vec)
        .ok_or("no TLS info")?;
    let text = r.text().await.map_err(|e| e.to_string())?;
    let body = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
    Ok((cert, body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_serves_https_and_reloads_its_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let first = self_signed(dir.path(), "api");
    let (cert, key) = (dir.path().join("api.pem"), dir.path().join("api.key"));
    let args = ["--https-cert", cert.to_str().unwrap(), "--https-key", key.to_str().unwrap()];
    let mut node = NodeProcess::dev_with(&dir.path().join("data"), &args);
    let port = node.endpoint.rsplit_once(':').unwrap().1.to_string();

    // Over TLS: the API's JSON error for an unsigned request, with the configured certificate.
    let c1 = client(&[&first]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let (seen, body) = loop {
        match get(&c1, &port).await {
            Ok(got) => break got,
            Err(e) => assert!(Instant::now() < deadline, "no HTTPS answer: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(seen, first);
    assert!(body["Code"].as_str().is_some_and(|c| !c.is_empty()), "{body}");
    assert!(body["RequestId"].is_string(), "{body}");

    // Plain HTTP on the HTTPS port gets no API answer.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/?Action=DescribeRegions"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(!plain.is_ok_and(|r| r.status().is_success()), "plain HTTP was served");

    // A new certificate in place, then SIGHUP: new connections present it, no restart.
    let second = self_signed(dir.path(), "api");
    let pid = node.pid().expect("running");
    let killed = std::process::Command::new("kill").args(["-HUP", &pid.to_string()]).status();
    assert!(killed.unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        // A fresh client each time: a pooled connection made before the reload keeps its cert.
        let got = get(&client(&[&first, &second]), &port).await;
        if matches!(&got, Ok((c, _)) if *c == second) {
            break;
        }
        assert!(Instant::now() < deadline, "the new certificate was never served: {got:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(node.is_running(), "the node restarted or died during the reload");
    assert!(!node.log().contains("BEGIN PRIVATE KEY"), "the key reached the log");
}

#[test]
fn a_plaintext_api_off_loopback_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yaoshi"))
        .args(["serve", "--dev", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--behind-tls-proxy"), "{err}");
}
