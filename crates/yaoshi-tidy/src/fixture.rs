//! Synthetic repositories for the checks' tests.
//!
//! Paths and texts name directories and extensions through placeholders (`<x>` is the crate `x` under
//! `crates/`, `<md>` is `.md`), so that the fixtures' made-up paths are not themselves citations the
//! cited-path check would flag in this crate's source.

use crate::Repo;

/// What each placeholder stands for.
const PLACEHOLDERS: &[(&str, &str)] = &[
    // Split so that this table is not a citation of a missing crate either.
    ("<x>", concat!("crates", "/x")),
    ("<y>", concat!("crates", "/y")),
    ("<chaos>", "chaos-tests"),
    ("<benches>", "benches"),
    ("<docs>", "docs"),
    ("<md>", ".md"),
    ("<rs>", ".rs"),
];

fn expand(s: &str) -> String {
    PLACEHOLDERS.iter().fold(s.to_string(), |s, (from, to)| s.replace(from, to))
}

/// A repository of the given (path, text) pairs, placeholders expanded.
pub(crate) fn repo(files: &[(&str, &str)]) -> Repo {
    let expanded: Vec<(String, String)> =
        files.iter().map(|(path, text)| (expand(path), expand(text))).collect();
    Repo::from_files(expanded.iter().map(|(p, t)| (p.as_str(), t.as_str())))
}

/// `s` with its placeholders expanded, to compare with findings.
pub(crate) fn path(s: &str) -> String {
    expand(s)
}
