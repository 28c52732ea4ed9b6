//! Paging over 250 keys and 250 aliases returns each exactly once with the right TotalCount.

use std::collections::BTreeSet;

use yaoshi_client::Client;

use crate::support::{must_call, must_create_key, must_start_dev};

/// Walks every page of a list action (with `extra` parameters) and returns the `field` of each
/// item in order, checking TotalCount = 250 on every page.
pub(crate) async fn walk(
    c: &Client,
    action: &str,
    extra: &[(&str, &str)],
    (list, item, field): (&str, &str, &str),
    page_size: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    for page in 1.. {
        let page = page.to_string();
        let mut params = vec![("PageSize", page_size), ("PageNumber", &page)];
        params.extend_from_slice(extra);
        let r = must_call(c, action, &params).await;
        assert_eq!(r.body["TotalCount"].as_u64(), Some(250), "{action}");
        assert_eq!(r.body["PageNumber"].to_string(), page);
        let items = r.body[list][item].as_array().unwrap().clone();
        if items.is_empty() {
            return out;
        }
        out.extend(items.iter().map(|i| i[field].as_str().unwrap().to_string()));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn paging_250_keys_and_aliases() {
    let (_dir, node) = must_start_dev().await;
    let c = node.client();
    let mut keys = BTreeSet::new();
    let mut aliases = BTreeSet::new();
    for i in 0..250 {
        let id = must_create_key(&c).await;
        let alias = format!("alias/page-{i:03}");
        must_call(&c, "CreateAlias", &[("AliasName", &alias), ("KeyId", &id)]).await;
        keys.insert(id);
        aliases.insert(alias);
    }
    for size in ["100", "7"] {
        let seen = walk(&c, "ListKeys", &[], ("Keys", "Key", "KeyId"), size).await;
        assert_eq!(seen.len(), 250, "page size {size}");
        assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), keys);
        let seen = walk(&c, "ListAliases", &[], ("Aliases", "Alias", "AliasName"), size).await;
        assert_eq!(seen.len(), 250, "page size {size}");
        assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), aliases);
    }
}
