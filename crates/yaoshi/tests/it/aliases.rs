//! Aliases: create, resolve wherever a KeyId is accepted, update, delete, list with paging.

use std::collections::BTreeSet;

use crate::support::{assert_api_error, must_call, must_create_key, must_start_dev};

#[tokio::test(flavor = "multi_thread")]
async fn aliases_end_to_end() {
    let (_dir, mut node) = must_start_dev().await;
    let c = node.client();
    let k1 = must_create_key(&c).await;
    let k2 = must_create_key(&c).await;

    must_call(&c, "CreateAlias", &[("AliasName", "alias/app"), ("KeyId", &k1)]).await;
    let d = must_call(&c, "DescribeKey", &[("KeyId", "alias/app")]).await;
    assert_eq!(d.body["KeyMetadata"]["KeyId"], k1.as_str());
    let e = must_call(&c, "Encrypt", &[("KeyId", "alias/app"), ("Plaintext", "aGk=")]).await;
    assert_eq!(e.str("KeyId"), Some(k1.as_str()));

    // Invalid names, duplicates, unknown keys, alias as target.
    for bad in ["app", "alias/", "alias/has space", &format!("alias/{}", "x".repeat(250))] {
        let r = c.call("CreateAlias", &[("AliasName", bad), ("KeyId", &k1)]).await.unwrap();
        assert_api_error(&r, 400, "InvalidParameter");
    }
    assert_api_error(
        &c.call("CreateAlias", &[("AliasName", "alias/app"), ("KeyId", &k2)]).await.unwrap(),
        400,
        "AliasAlreadyExists",
    );
    let ghost = "00000000-0000-4000-8000-000000000000";
    assert_api_error(
        &c.call("CreateAlias", &[("AliasName", "alias/ghost"), ("KeyId", ghost)]).await.unwrap(),
        404,
        "Forbidden.KeyNotFound",
    );
    assert_api_error(
        &c.call("CreateAlias", &[("AliasName", "alias/x"), ("KeyId", "alias/app")]).await.unwrap(),
        400,
        "Unsupported.Alias",
    );

    // UpdateAlias moves it; writes through an alias act on its current key.
    must_call(&c, "UpdateAlias", &[("AliasName", "alias/app"), ("KeyId", &k2)]).await;
    let d = must_call(&c, "DescribeKey", &[("KeyId", "alias/app")]).await;
    assert_eq!(d.body["KeyMetadata"]["KeyId"], k2.as_str());
    must_call(&c, "DisableKey", &[("KeyId", "alias/app")]).await;
    let d = must_call(&c, "DescribeKey", &[("KeyId", &k2)]).await;
    assert_eq!(d.body["KeyMetadata"]["KeyState"], "Disabled");
    must_call(&c, "EnableKey", &[("KeyId", "alias/app")]).await;
    assert_api_error(
        &c.call("UpdateAlias", &[("AliasName", "alias/none"), ("KeyId", &k1)]).await.unwrap(),
        404,
        "Forbidden.AliasNotFound",
    );

    // State rules: CreateAlias on a PendingDeletion key, UpdateAlias to one.
    let doomed = must_create_key(&c).await;
    must_call(&c, "ScheduleKeyDeletion", &[("KeyId", &doomed)]).await;
    assert_api_error(
        &c.call("CreateAlias", &[("AliasName", "alias/doomed"), ("KeyId", &doomed)]).await.unwrap(),
        409,
        "Rejected.StateModifiedFailed",
    );
    assert_api_error(
        &c.call("UpdateAlias", &[("AliasName", "alias/app"), ("KeyId", &doomed)]).await.unwrap(),
        409,
        "Rejected.PendingDeletion",
    );

    // Paging: 25 more aliases on k1, each listed exactly once.
    let mut expected = BTreeSet::from(["alias/app".to_string()]);
    for i in 0..25 {
        let name = format!("alias/svc-{i:02}");
        must_call(&c, "CreateAlias", &[("AliasName", &name), ("KeyId", &k1)]).await;
        expected.insert(name);
    }
    let mut seen = Vec::new();
    for page in 1.. {
        let page = page.to_string();
        let r = must_call(&c, "ListAliases", &[("PageSize", "7"), ("PageNumber", &page)]).await;
        assert_eq!(r.body["TotalCount"].as_u64(), Some(26));
        let items = r.body["Aliases"]["Alias"].as_array().unwrap().clone();
        if items.is_empty() {
            break;
        }
        for a in items {
            let name = a["AliasName"].as_str().unwrap().to_string();
            assert!(a["AliasArn"].as_str().unwrap().ends_with(&format!(":{name}")));
            seen.push(name);
        }
    }
    assert_eq!(seen.len(), 26);
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), expected);
    let r = must_call(&c, "ListAliasesByKeyId", &[("KeyId", &k1), ("PageSize", "100")]).await;
    assert_eq!(r.body["TotalCount"].as_u64(), Some(25));
    assert!(
        r.body["Aliases"]["Alias"].as_array().unwrap().iter().all(|a| a["KeyId"] == k1.as_str())
    );
    let r = must_call(&c, "ListAliasesByKeyId", &[("KeyId", &k2)]).await;
    assert_eq!(r.body["TotalCount"].as_u64(), Some(1));

    // DeleteAlias.
    must_call(&c, "DeleteAlias", &[("AliasName", "alias/app")]).await;
    assert_api_error(
        &c.call("DescribeKey", &[("KeyId", "alias/app")]).await.unwrap(),
        404,
        "Forbidden.AliasNotFound",
    );
    assert_api_error(
        &c.call("DeleteAlias", &[("AliasName", "alias/app")]).await.unwrap(),
        404,
        "Forbidden.AliasNotFound",
    );
    let r = must_call(&c, "ListAliasesByKeyId", &[("KeyId", &k2)]).await;
    assert_eq!(r.body["TotalCount"].as_u64(), Some(0));
    assert!(node.is_running());
}
