//! Table-driven tests of the access-policy evaluator: the reference and the compiled one decide
//! alike on every row, and the globs, CIDR blocks and validation behave as documented.

use super::*;

const KEY_A: &str = "acs:kms:cn-hangzhou:1000:key/aaaa";
const KEY_B: &str = "acs:kms:cn-hangzhou:1000:key/bbbb";
const ALIAS_A: &str = "acs:kms:cn-hangzhou:1000:alias/app";
const SECRET: &str = "acs:kms:cn-hangzhou:1000:secret/db-password";
const CERT: &str = "acs:kms:cn-hangzhou:1000:certificate/c-1";
const ACCOUNT: &str = "acs:kms:cn-hangzhou:1000:*";

fn policy(name: &str, actions: &[&str], resources: &[&str], cidrs: &[&str]) -> Policy {
    let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
    Policy {
        name: name.into(),
        actions: v(actions),
        resources: v(resources),
        source_cidrs: v(cidrs),
    }
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

use Decision::{Allow, Deny};
use DenyReason::{Action, Network, NoPolicy, Resource};

/// (policies, action, resources (each with its names), source, expected decision).
type Row = (Vec<Policy>, &'static str, Vec<Vec<&'static str>>, Option<IpAddr>, Decision);

fn table() -> Vec<Row> {
    let crypto = || policy("crypto", &["Encrypt*", "Decrypt", "GenerateDataKey*"], &[KEY_A], &[]);
    let describe = || policy("read", &["kms:Describe*", "List*"], &["*"], &[]);
    let office = || policy("office", &["*"], &["acs:kms:*:*:key/*"], &["10.1.0.0/16", "192.0.2.7"]);
    let v6 = || policy("v6", &["Encrypt"], &["*"], &["2001:db8::/32"]);
    let secrets = || policy("secrets", &["GetSecretValue"], &["acs:kms:*:*:secret/db-*"], &[]);
    let certs = || policy("certs", &["Certificate*Sign"], &[CERT], &[]);
    vec![
        // Deny by default: no policy at all.
        (vec![], "Encrypt", vec![vec![KEY_A]], ip("10.1.2.3"), Deny(NoPolicy)),
        // Action wildcards.
        (vec![crypto()], "Encrypt", vec![vec![KEY_A]], None, Allow),
        (vec![crypto()], "EncryptAnything", vec![vec![KEY_A]], None, Allow),
        (vec![crypto()], "GenerateDataKeyWithoutPlaintext", vec![vec![KEY_A]], None, Allow),
        (vec![crypto()], "Decrypt", vec![vec![KEY_A]], None, Allow),
        (vec![crypto()], "DecryptX", vec![vec![KEY_A]], None, Deny(Action)),
        (vec![crypto()], "ReEncrypt", vec![vec![KEY_A]], None, Deny(Action)),
        (vec![crypto()], "ScheduleKeyDeletion", vec![vec![KEY_A]], None, Deny(Action)),
        (vec![describe()], "DescribeKey", vec![vec![KEY_B]], None, Allow),
        (vec![describe()], "ListKeys", vec![vec![ACCOUNT]], None, Allow),
        (vec![describe()], "CreateKey", vec![vec![ACCOUNT]], None, Deny(Action)),
        // Resources: exact ARN, alias names, every resource of the request.
        (vec![crypto()], "Encrypt", vec![vec![KEY_B]], None, Deny(Resource)),
        (vec![crypto()], "Encrypt", vec![vec![ALIAS_A, KEY_A]], None, Allow),
        (vec![crypto()], "ReEncrypt", vec![vec![KEY_A], vec![KEY_B]], None, Deny(Action)),
        (
            vec![policy("re", &["ReEncrypt"], &[KEY_A], &[])],
            "ReEncrypt",
            vec![vec![KEY_A], vec![KEY_B]],
            None,
            Deny(Resource),
        ),
        (
            vec![policy("re", &["ReEncrypt"], &[KEY_A, KEY_B], &[])],
            "ReEncrypt",
            vec![vec![KEY_B], vec![KEY_A]],
            None,
            Allow,
        ),
        // A key-scoped policy does not cover account-wide actions.
        (vec![crypto()], "Encrypt", vec![vec![ACCOUNT]], None, Deny(Resource)),
        (vec![office()], "CreateKey", vec![vec![ACCOUNT]], ip("10.1.0.1"), Deny(Resource)),
        // Secrets and certificates.
        (vec![secrets()], "GetSecretValue", vec![vec![SECRET]], None, Allow),
        (
            vec![secrets()],
            "GetSecretValue",
            vec![vec!["acs:kms:cn-hangzhou:1000:secret/api-token"]],
            None,
            Deny(Resource),
        ),
        (vec![certs()], "CertificatePrivateKeySign", vec![vec![CERT]], None, Allow),
        (vec![certs()], "CertificatePublicKeyVerify", vec![vec![CERT]], None, Deny(Action)),
        // Networks: blocks, single addresses, unknown source, IPv6 and IPv4-mapped addresses.
        (vec![office()], "Encrypt", vec![vec![KEY_B]], ip("10.1.255.255"), Allow),
        (vec![office()], "Encrypt", vec![vec![KEY_B]], ip("10.2.0.1"), Deny(Network)),
        (vec![office()], "Encrypt", vec![vec![KEY_B]], ip("192.0.2.7"), Allow),
        (vec![office()], "Encrypt", vec![vec![KEY_B]], ip("192.0.2.8"), Deny(Network)),
        (vec![office()], "Encrypt", vec![vec![KEY_B]], None, Deny(Network)),
        (vec![office()], "Encrypt", vec![vec![KEY_B]], ip("::ffff:10.1.0.9"), Allow),
        (vec![v6()], "Encrypt", vec![vec![KEY_B]], ip("2001:db8:1::5"), Allow),
        (vec![v6()], "Encrypt", vec![vec![KEY_B]], ip("2001:db9::5"), Deny(Network)),
        (vec![v6()], "Encrypt", vec![vec![KEY_B]], ip("10.1.0.1"), Deny(Network)),
        // Several policies: one allowing is enough; the reason is the furthest one reached.
        (vec![crypto(), office()], "Encrypt", vec![vec![KEY_A]], ip("8.8.8.8"), Allow),
        (vec![crypto(), office()], "Encrypt", vec![vec![KEY_B]], ip("8.8.8.8"), Deny(Network)),
        (vec![crypto(), describe()], "Encrypt", vec![vec![KEY_B]], None, Deny(Resource)),
        (vec![crypto(), describe()], "DisableKey", vec![vec![KEY_A]], None, Deny(Action)),
        (vec![describe(), crypto()], "DescribeKey", vec![vec![KEY_A]], None, Allow),
        // `*` matches the empty run too; patterns match whole names only.
        (
            vec![policy("p", &["Encrypt*"], &["acs:kms:*:1000:key/aaaa*"], &[])],
            "Encrypt",
            vec![vec![KEY_A]],
            None,
            Allow,
        ),
        (
            vec![policy("p", &["Encrypt"], &["acs:kms:cn-hangzhou:1000:key/aaa"], &[])],
            "Encrypt",
            vec![vec![KEY_A]],
            None,
            Deny(Resource),
        ),
        (
            vec![policy("p", &["ncrypt"], &["*"], &[])],
            "Encrypt",
            vec![vec![KEY_A]],
            None,
            Deny(Action),
        ),
    ]
}

#[test]
fn the_table_decides_alike_in_both_evaluators() {
    let actions = ["Encrypt", "Decrypt", "DescribeKey", "ListKeys", "CreateKey", "ReEncrypt"];
    for (i, (policies, action, resources, source, expected)) in table().into_iter().enumerate() {
        let resources: Vec<Vec<String>> =
            resources.iter().map(|r| r.iter().map(|s| s.to_string()).collect()).collect();
        let req = AccessRequest { action, resources: &resources, source };
        assert_eq!(evaluate(&policies, &req), expected, "row {i}: reference evaluator");
        let compiled = CompiledPolicies::new(policies, &actions);
        assert_eq!(compiled.evaluate(&req), expected, "row {i}: compiled evaluator");
    }
}

#[test]
fn the_index_finds_the_one_policy_among_a_thousand() {
    let mut policies: Vec<Policy> = (0..999)
        .map(|i| policy(&format!("p{i}"), &["Encrypt"], &[&format!("{KEY_A}{i}")], &[]))
        .collect();
    policies.push(policy("last", &["Encrypt"], &[KEY_B], &["10.0.0.0/8"]));
    let compiled = CompiledPolicies::new(policies.clone(), &["Encrypt"]);
    let names = vec![vec![KEY_B.to_string()]];
    for (source, expected) in [(ip("10.9.9.9"), Allow), (ip("11.0.0.1"), Deny(Network))] {
        let req = AccessRequest { action: "Encrypt", resources: &names, source };
        assert_eq!(compiled.evaluate(&req), expected);
        assert_eq!(evaluate(&policies, &req), expected);
    }
}

#[test]
fn the_prefix_index_finds_the_one_wildcard_policy_among_a_thousand() {
    let mut policies: Vec<Policy> = (0..999)
        .map(|i| {
            policy(&format!("p{i}"), &["Encrypt"], &[&format!("acs:kms:*:*:key/other-{i}-*")], &[])
        })
        .collect();
    policies.push(policy("last", &["Encrypt"], &["acs:kms:*:*:key/bb*"], &[]));
    let compiled = CompiledPolicies::new(policies.clone(), &["Encrypt"]);
    let index = &compiled.by_action["Encrypt"];
    let names = vec![KEY_B.to_string()];
    assert_eq!(index.candidates(&names).collect::<Vec<_>>(), vec![999]);
    let req = AccessRequest { action: "Encrypt", resources: &[names], source: None };
    assert_eq!(compiled.evaluate(&req), Allow);
    assert_eq!(evaluate(&policies, &req), Allow);
}

#[test]
fn globs_match_whole_texts() {
    for (p, t, m) in [
        ("*", "", true),
        ("*", "anything", true),
        ("Encrypt*", "Encrypt", true),
        ("Encrypt*", "encrypt", false),
        ("*Key", "DescribeKey", true),
        ("*Key", "DescribeKeys", false),
        ("a*b*c", "aXbYbZc", true),
        ("a*b*c", "aXbYbZ", false),
        ("", "", true),
        ("", "x", false),
        ("a**", "a", true),
    ] {
        assert_eq!(glob(p, t), m, "{p:?} on {t:?}");
        assert_eq!(Glob::new(p).matches(t), m, "compiled {p:?} on {t:?}");
    }
}

#[test]
fn compiled_globs_decide_as_the_reference_on_every_short_pattern() {
    // Every pattern of up to 5 characters over {a, b, *} against every text of up to 6 over
    // {a, b}: the substring-search matcher and the backtracking one agree.
    fn all(alphabet: &[char], max: usize) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..max {
            frontier = frontier
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            out.extend(frontier.iter().cloned());
        }
        out
    }
    let texts = all(&['a', 'b'], 6);
    for p in all(&['a', 'b', '*'], 5) {
        let g = Glob::new(&p);
        for t in &texts {
            assert_eq!(g.matches(t), glob(&p, t), "{p:?} on {t:?}");
        }
    }
}

#[test]
fn policies_are_validated() {
    assert!(policy("ok", &["*"], &["*"], &["10.0.0.0/8", "::1"]).validate().is_ok());
    for (p, problem) in [
        (policy("", &["*"], &["*"], &[]), "name"),
        (policy("bad name", &["*"], &["*"], &[]), "name"),
        (policy("p", &[], &["*"], &[]), "Actions"),
        (policy("p", &["*"], &[], &[]), "Resources"),
        (policy("p", &[""], &["*"], &[]), "Actions"),
        (policy("p", &["*"], &["*"], &["10.0.0.0/33"]), "CIDR"),
        (policy("p", &["*"], &["*"], &["10.0.0/8"]), "CIDR"),
        (policy("p", &["*"], &["*"], &["example.com"]), "CIDR"),
    ] {
        let e = p.validate().unwrap_err();
        assert!(e.to_string().contains(problem), "{e}");
    }
    let many: Vec<String> = (0..=MAX_POLICY_ENTRIES).map(|i| format!("a{i}")).collect();
    let p = Policy {
        name: "p".into(),
        actions: many,
        resources: vec!["*".into()],
        source_cidrs: vec![],
    };
    assert!(p.validate().is_err());
}

#[test]
fn policies_read_from_json() {
    let text = r#"[{"Name":"p","Actions":["Encrypt*"],"Resources":["*"],"SourceCidrs":["10.0.0.0/8"]},
                   {"Name":"q","Actions":["Describe*"],"Resources":["*"]}]"#;
    let policies: Vec<Policy> = serde_json::from_str(text).unwrap();
    assert_eq!(policies[0].source_cidrs, vec!["10.0.0.0/8"]);
    assert!(policies[1].source_cidrs.is_empty());
}
