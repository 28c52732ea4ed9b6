//! Two regions of one deployment (each a single-voter group with its own state and domain key,
//! configured with the other as a peer): DescribeRegions lists both on each; a request naming
//! the other region by `RegionId` is forwarded there unchanged and authenticated by it, so the key
//! it creates exists only there and its ciphertext opens only there; a `RegionId` no region serves
//! is `InvalidParameter`; with the other region down, requests for it are a 503 while the node
//! keeps serving its own region.

use std::path::Path;
use std::time::Duration;

use crate::support::{AK, NodeProcess, assert_api_error, free_port, must_be_ready, must_call};

/// A single-voter node of `region` whose peer region `peer` is at `peer_http`.
fn start(dir: &Path, region: &str, http: u16, peer: &str, peer_http: u16) -> NodeProcess {
    let raft = free_port();
    let data = dir.join(region);
    let config = dir.join(format!("{region}.toml"));
    std::fs::write(
        &config,
        format!(
            "node_id = 1\nregion = \"{region}\"\nlisten = \"127.0.0.1:{http}\"\n\
             raft_listen = \"127.0.0.1:{raft}\"\ndata_dir = \"{}\"\n\
             domain_key_env = \"YAOSHI_DOMAIN_KEY\"\n\
             [[members]]\nid = 1\nraft_addr = \"127.0.0.1:{raft}\"\n\
             [[regions]]\nregion = \"{peer}\"\nendpoints = [\"127.0.0.1:{peer_http}\"]\n",
            data.display()
        ),
    )
    .unwrap();
    let domain_key = yaoshi_crypto::DomainKey::generate().to_hex();
    NodeProcess::with_config(&config, &data, &format!("127.0.0.1:{http}"), &domain_key, &[])
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_for_another_region_are_served_there() {
    let dir = tempfile::tempdir().unwrap();
    let (hz_http, sh_http) = (free_port(), free_port());
    let hangzhou = start(dir.path(), "cn-hangzhou", hz_http, "cn-shanghai", sh_http);
    let mut shanghai = start(dir.path(), "cn-shanghai", sh_http, "cn-hangzhou", hz_http);
    let (hz, sh) = (hangzhou.client(), shanghai.client());
    must_be_ready(&hz, Duration::from_secs(60)).await;
    must_be_ready(&sh, Duration::from_secs(60)).await;

    for (c, first) in [(&hz, "cn-hangzhou"), (&sh, "cn-shanghai")] {
        let r = must_call(c, "DescribeRegions", &[]).await;
        let regions: Vec<&str> = r.body["Regions"]["Region"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["RegionId"].as_str().unwrap())
            .collect();
        assert_eq!(regions.len(), 2, "{:?}", r.body);
        assert_eq!(regions[0], first, "this node's region first");
        assert!(regions.contains(&"cn-hangzhou") && regions.contains(&"cn-shanghai"));
    }

    // CreateKey sent to Hangzhou for Shanghai: the key is Shanghai's.
    let to_sh = ("RegionId", "cn-shanghai");
    let r = must_call(&hz, "CreateKey", &[to_sh, ("Description", "made via hangzhou")]).await;
    let key = r.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    assert!(r.body["KeyMetadata"]["Arn"].as_str().unwrap().starts_with("acs:kms:cn-shanghai:"));
    let d = must_call(&sh, "DescribeKey", &[("KeyId", &key)]).await;
    assert_eq!(d.body["KeyMetadata"]["Description"], "made via hangzhou");
    let r = hz.call("DescribeKey", &[("KeyId", &key)]).await.unwrap();
    assert_api_error(&r, 404, "Forbidden.KeyNotFound");

    // Data plane through the other region: sealed in Shanghai, opened in Shanghai directly and
    // through Hangzhou, unknown to Hangzhou's own keys.
    let e = must_call(&hz, "Encrypt", &[to_sh, ("KeyId", &key), ("Plaintext", "aGk=")]).await;
    let blob = e.str("CiphertextBlob").unwrap().to_string();
    let d = must_call(&sh, "Decrypt", &[("CiphertextBlob", &blob)]).await;
    assert_eq!(d.str("Plaintext"), Some("aGk="));
    let d = must_call(&hz, "Decrypt", &[to_sh, ("CiphertextBlob", &blob)]).await;
    assert_eq!(d.str("Plaintext"), Some("aGk="));
    let r = hz.call("Decrypt", &[("CiphertextBlob", &blob)]).await.unwrap();
    assert_eq!(r.status / 100, 4, "{:?}", r.body);

    // The forwarded request is authenticated by the region it names: a bad signature stays bad.
    let forged = yaoshi_client::Client::new(&format!("127.0.0.1:{hz_http}"), AK, "wrong");
    let r = forged.call("DescribeRegions", &[to_sh]).await.unwrap();
    assert_eq!(r.status / 100, 4, "{:?}", r.body);

    // A region nobody serves; then the other region down.
    let r = hz.call("DescribeRegions", &[("RegionId", "cn-beijing")]).await.unwrap();
    assert_api_error(&r, 400, "InvalidParameter");
    shanghai.kill();
    let r = hz.call("CreateKey", &[to_sh]).await.unwrap();
    assert_api_error(&r, 503, "ServiceUnavailableTemporary");
    must_call(&hz, "DescribeRegions", &[("RegionId", "cn-hangzhou")]).await;
    let r = must_call(&hz, "CreateKey", &[]).await;
    assert!(r.body["KeyMetadata"]["Arn"].as_str().unwrap().starts_with("acs:kms:cn-hangzhou:"));
}

/// Regions configured in a cycle (here a peer region whose endpoint is the node itself) cannot
/// bounce a request: the forwarded request is refused at its second hop, at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_region_cycle_refuses_the_second_hop() {
    let dir = tempfile::tempdir().unwrap();
    let http = free_port();
    let node = start(dir.path(), "cn-hangzhou", http, "cn-beijing", http);
    let c = node.client();
    must_be_ready(&c, Duration::from_secs(60)).await;
    let started = std::time::Instant::now();
    let r = c.call("DescribeRegions", &[("RegionId", "cn-beijing")]).await.unwrap();
    assert_api_error(&r, 503, "ServiceUnavailableTemporary");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(node.log().contains("names another region again"), "no warning logged");
    must_call(&c, "DescribeRegions", &[]).await;
}
