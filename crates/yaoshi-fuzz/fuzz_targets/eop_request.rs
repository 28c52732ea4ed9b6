//! The CTyun EOP side: the JSON body read as parameters, the `Eop-Authorization` parser and the
//! string to sign never panic. Every non-null member of an accepted body is one parameter under
//! its API name with its text; a parsed header renders back to the same parse; the string to sign
//! does not depend on the order of a query with distinct names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yaoshi_sign::{api_name, eop_body_params, eop_string_to_sign, parse_eop_authorization, parse_form};

fuzz_target!(|data: &[u8]| {
    // Three parts split at the first two NUL bytes: body, Authorization header, query.
    let mut parts = data.splitn(3, |&b| b == 0);
    let (body, auth, query) =
        (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default());

    if let Ok(params) = eop_body_params(body) {
        if let Ok(serde_json::Value::Object(members)) = serde_json::from_slice::<serde_json::Value>(body) {
            let expected = members.iter().filter(|(_, v)| !v.is_null()).count();
            assert_eq!(params.len(), expected, "one parameter per non-null member");
            for (name, value) in &members {
                let text = match value {
                    serde_json::Value::Null => continue,
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                assert!(params.contains(&(api_name(name), text)), "member {name:?} lost");
            }
        } else {
            assert!(params.is_empty(), "only a blank body has no members");
        }
    }

    let auth = String::from_utf8_lossy(auth);
    if let Ok(parsed) = parse_eop_authorization(&auth) {
        let again = format!(
            "{} Headers={} Signature={}",
            parsed.access_key_id,
            parsed.signed_headers.join(";"),
            parsed.signature
        );
        assert_eq!(parse_eop_authorization(&again), Ok(parsed));
    }

    let pairs = parse_form(query);
    let headers = [("ctyun-eop-request-id", "id"), ("eop-date", "20240115T083000Z")];
    let sts = eop_string_to_sign(&headers, &pairs, body);
    let mut names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    if names.len() == pairs.len() {
        let mut reversed = pairs.clone();
        reversed.reverse();
        assert_eq!(eop_string_to_sign(&headers, &reversed, body), sts);
    }
});
