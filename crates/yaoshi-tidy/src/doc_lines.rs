//! Check (a): every Rust file of the workspace's crates opens with a `//!` line saying what it is
//! for.

use crate::{Finding, Repo};

/// The folders whose Rust files must open with a `//!` line.
const DOCUMENTED_ROOTS: &[&str] = &["crates/", "chaos-tests/", "benches/"];

/// Findings for every `.rs` file under `crates/`, `chaos-tests/` or `benches/` (build scripts
/// included) whose first line is not a `//!` line.
pub fn check_doc_lines(repo: &Repo) -> Vec<Finding> {
    repo.files()
        .filter(|p| p.ends_with(".rs") && DOCUMENTED_ROOTS.iter().any(|root| p.starts_with(root)))
        .filter(|p| {
            let first = repo.text(p).and_then(|t| t.lines().next()).unwrap_or("");
            !first.trim_start_matches('\u{feff}').starts_with("//!")
        })
        .map(|p| Finding::new(p, 1, "does not open with a `//!` line saying what the file is for"))
        .collect()
}
