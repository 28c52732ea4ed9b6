//! The official Alibaba Cloud SDKs (classic `aliyun-python-sdk-kms` and Tea `alibabacloud_kms20160120`)
//! against a dev node: CreateKey → DescribeKey → Encrypt/Decrypt (with and without context), error
//! paths, paging, XML, both signature schemes; and the key-management actions (lifecycle, deletion
//! protection, versions, aliases, tags, filters, regions and account status); every KeySpec/KeyUsage/
//! Origin/ProtectionLevel/rotation parameter of CreateKey, UpdateRotationPolicy and CreateKeyVersion;
//! the key-state table (docs/DESIGN.md §2) for every key-management action in every key state; and
//! Format=XML responses against their JSON twins; and the CTyun EOP surface driven by the CTyun
//! page's own signing code (`ctyun_seed.py`) next to the classic SDK; GenerateMac/VerifyMac through
//! both SDKs' generic requests (`sdk_mac.py`); the secrets manager (every secret action,
//! GetRandomPassword's options, byte-exact values in the query and in the Tea SDK's form body,
//! stages, recovery window and scheduled rotation on the test clock, secrets under a CMK, tags on
//! secrets) through both SDKs (`*_secrets.py`, `flow_secrets.py`), and the official secrets cache client
//! (`secrets_cache.py`, in a venv of its own: its pins conflict with the SDK venv's cryptography);
//! the certificate actions for RSA_2048, EC_P256 and EC_SM2 with a test CA made by `cryptography`
//! and `openssl`, signatures and ciphertexts checked and made locally (`*_certificates.py`,
//! `flow_certificates.py`).
//! Every node runs with `--test-clock` so a script can move KMS time forward (YAOSHI_TEST_CLOCK_URL).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::{AK, NodeProcess, SK, must_be_ready, venv_python};

/// The python of the secrets cache client's venv (`.ci/setup`): `$YAOSHI_SECRETS_CACHE_VENV`, else
/// the SDK venv's directory with `-secrets-cache` appended.
fn secrets_cache_python() -> PathBuf {
    let venv = std::env::var("YAOSHI_SECRETS_CACHE_VENV").map(PathBuf::from).unwrap_or_else(|_| {
        let sdk_venv = venv_python().parent().and_then(Path::parent).unwrap().to_path_buf();
        let mut dir = sdk_venv.into_os_string();
        dir.push("-secrets-cache");
        PathBuf::from(dir)
    });
    let py = venv.join("bin/python");
    assert!(py.exists(), "{} missing: run .ci/setup first", py.display());
    py
}

async fn run_script(script: &str) {
    run_script_with(venv_python(), script).await;
}

async fn run_script_with(python: PathBuf, script: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut node = NodeProcess::dev_with(&dir.path().join("node"), &["--test-clock"]);
    must_be_ready(&node.client(), Duration::from_secs(30)).await;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat").join(script);
    let endpoint = node.endpoint.clone();
    let clock_url = format!("http://{endpoint}/_test/clock");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(path)
            .env("YAOSHI_ENDPOINT", endpoint)
            .env("YAOSHI_ACCESS_KEY_ID", AK)
            .env("YAOSHI_ACCESS_KEY_SECRET", SK)
            .env("YAOSHI_REGION", "cn-hangzhou")
            .env("YAOSHI_TEST_CLOCK_URL", clock_url)
            // The CTyun page dates its requests with local time labelled Z.
            .env("TZ", "UTC")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{script} failed:\n{stdout}\n{}\nnode log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        node.log()
    );
    assert!(node.is_running(), "node died during {script}");
}

#[tokio::test(flavor = "multi_thread")]
async fn classic_sdk_round_trip() {
    run_script("classic_roundtrip.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tea_sdk_round_trip_acs3_and_v2() {
    run_script("tea_roundtrip.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn classic_sdk_key_management() {
    run_script("classic_keymgmt.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tea_sdk_key_management_acs3_and_v2() {
    run_script("tea_keymgmt.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn classic_sdk_key_specs_rotation_versions() {
    run_script("classic_keyspecs.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tea_sdk_key_specs_rotation_versions_acs3_and_v2() {
    run_script("tea_keyspecs.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn classic_sdk_state_table() {
    run_script("classic_state_table.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tea_sdk_state_table_acs3_and_v2() {
    run_script("tea_state_table.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn classic_sdk_xml_responses() {
    run_script("classic_xml.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tea_sdk_xml_responses_acs3_and_v2() {
    run_script("tea_xml.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn classic_sdk_crypto_interop() {
    run_script("classic_crypto.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tea_sdk_crypto_interop_acs3_and_v2() {
    run_script("tea_crypto.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ctyun_eop_page_code_and_both_apis() {
    run_script("ctyun_eop.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn classic_and_tea_generic_requests_for_macs() {
    run_script("sdk_mac.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn classic_sdk_every_secret_action() {
    run_script("classic_secrets.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tea_sdk_every_secret_action_acs3_and_v2() {
    run_script("tea_secrets.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn classic_sdk_certificates_with_a_test_ca() {
    run_script("classic_certificates.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tea_sdk_certificates_with_a_test_ca_acs3_and_v2() {
    run_script("tea_certificates.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_cache_client_fetch_and_refresh() {
    run_script_with(secrets_cache_python(), "secrets_cache.py").await;
}
