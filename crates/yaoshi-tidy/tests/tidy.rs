//! The repository checks, run against this repository: each test fails listing every finding.

use std::path::Path;
use std::sync::OnceLock;

use yaoshi_api::Plane;
use yaoshi_model::ErrorCode;
use yaoshi_tidy::{
    ActionRow, Finding, Repo, check_actions, check_cited_paths, check_doc_lines, check_error_table,
    check_module_cycles,
};

/// The repository, loaded once for all tests.
fn repo() -> &'static Repo {
    static REPO: OnceLock<Repo> = OnceLock::new();
    REPO.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Repo::load(&root).expect("the repository can be read")
    })
}

/// Panics listing `findings`, if there are any.
fn assert_clean(check: &str, findings: Vec<Finding>) {
    if !findings.is_empty() {
        let list: Vec<String> = findings.iter().map(|f| format!("  {f}")).collect();
        panic!("{check}: {} finding(s)\n{}", findings.len(), list.join("\n"));
    }
}

#[test]
fn rust_files_open_with_a_doc_line() {
    assert_clean("files without a `//!` first line", check_doc_lines(repo()));
}

#[test]
fn cited_paths_exist() {
    assert_clean("cited paths that do not exist", check_cited_paths(repo()));
}

#[test]
fn modules_have_no_import_cycles() {
    assert_clean("import cycles between modules", check_module_cycles(repo()));
}

#[test]
fn design_error_table_matches_the_code() {
    let expected: Vec<(&str, u16)> =
        ErrorCode::ALL.iter().map(|c| (c.as_str(), c.http_status())).collect();
    assert_clean("docs/DESIGN.md §3 against ErrorCode::ALL", check_error_table(repo(), &expected));
}

/// The action table against its handlers' source and docs/API.md (see `action_table.rs`).
#[test]
fn action_table_matches_handlers_and_api_doc() {
    let rows: Vec<ActionRow> = yaoshi_api::ACTIONS
        .iter()
        .map(|a| ActionRow {
            name: a.name.to_string(),
            plane: match a.plane {
                Plane::Write => "write",
                Plane::Read => "read",
                Plane::Data => "data",
            }
            .to_string(),
            handler: a.handler.replace(' ', ""),
            required: a.required.iter().map(|r| r.to_string()).collect(),
        })
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let api_md = std::fs::read_to_string(root.join("docs/API.md")).expect("docs/API.md");
    let findings = check_actions(&rows, &root.join("crates/yaoshi-api/src/actions"), &api_md);
    assert!(findings.is_empty(), "action table disagreements:\n  {}", findings.join("\n  "));
}
