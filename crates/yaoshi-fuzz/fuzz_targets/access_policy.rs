//! The access-policy evaluator: for any policies that validate and any request, the compiled
//! (indexed) evaluator decides exactly as the reference one, and neither panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yaoshi_model::policy::{AccessRequest, CompiledPolicies, Policy, evaluate};

// Input: text lines. The first is the request, `action|names;names…|source` (names of one
// resource separated by `,`); each further line a policy, `actions|resources|cidrs` (lists
// separated by `,`). Plain text, so the fuzzer reaches globs, colons and CIDRs from nothing.
fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.lines();
    let request = lines.next().unwrap_or_default();
    let mut fields = request.splitn(3, '|');
    let action = fields.next().unwrap_or_default().to_string();
    let resources: Vec<Vec<String>> = fields
        .next()
        .unwrap_or_default()
        .split(';')
        .map(|r| r.split(',').map(str::to_string).collect())
        .collect();
    let source = fields.next().and_then(|s| s.parse().ok());
    let list = |s: Option<&str>| -> Vec<String> {
        s.unwrap_or_default().split(',').filter(|x| !x.is_empty()).map(str::to_string).collect()
    };
    let policies: Vec<Policy> = lines
        .take(64)
        .enumerate()
        .map(|(i, line)| {
            let mut f = line.splitn(3, '|');
            Policy {
                name: format!("p{i}"),
                actions: list(f.next()),
                resources: list(f.next()),
                source_cidrs: list(f.next()),
            }
        })
        .filter(|p| p.validate().is_ok())
        .collect();
    let req = AccessRequest { action: &action, resources: &resources, source };
    let compiled = CompiledPolicies::new(policies.clone(), &["Encrypt", "Decrypt", &action]);
    assert_eq!(compiled.evaluate(&req), evaluate(&policies, &req), "the evaluators disagree");
});
