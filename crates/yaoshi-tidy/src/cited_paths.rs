//! Check (b): every repository path cited in code, config and docs exists in the repository.
//!
//! A citation is a whitespace- or punctuation-delimited token that looks like a repository file:
//! it ends in one of [`CITED_EXTENSIONS`] or starts with one of [`CITED_PREFIXES`]. URLs,
//! absolute paths, `<placeholders>`, format strings and globs are not citations.

use std::collections::HashSet;

use crate::repo::{join_normalised, parent};
use crate::{Finding, Repo};

/// Extensions of the files scanned for citations (plus every file under `.ci/`).
const SCANNED_EXTENSIONS: &[&str] = &["rs", "toml", "md", "py", "proto", "sh"];

/// A token ending in one of these is a citation.
const CITED_EXTENSIONS: &[&str] = &[".md", ".rs", ".toml", ".proto", ".py", ".txt", ".sh"];

/// A token starting with one of these is a citation.
const CITED_PREFIXES: &[&str] =
    &["crates/", "docs/", "proto/", "cluster-config/", "chaos-tests/", "benches/", ".ci/"];

/// Characters that end a token: whitespace is one too.
const SEPARATORS: &[char] = &['`', '"', '\'', '(', ')', '[', ']', ',', ';', '|', '=', '!', '\\'];

/// Characters that make a token a placeholder, format string, glob or shell expansion.
const NOT_A_PATH: &[char] = &['<', '>', '*', '?', '{', '}', '$', '%'];

/// Citations that look like repository files but genuinely are not: (citing file, token, reason).
///
/// Keep this short: a citation of a file that is missing is a bug in the citing text.
/// The tokens are also allowed in this list's own file.
pub const ALLOWED_CITATIONS: &[(&str, &str, &str)] = &[
    (
        "benches/src/crypto_table.rs",
        "node.toml",
        "the config the benchmark writes, at run time, for each node it starts in a temporary directory",
    ),
    (
        "benches/src/crypto_table.rs",
        "B.md",
        "a Markdown file a unit test writes to a temporary directory to test rewriting tables",
    ),
    (
        "chaos-tests/tests/linearizable.rs",
        "history.txt",
        "the operation history the test writes into its run directory when a history fails the check",
    ),
];

/// The file that holds [`ALLOWED_CITATIONS`].
const ALLOW_LIST_FILE: &str = "crates/yaoshi-tidy/src/cited_paths.rs";

/// Findings for every citation, in a scanned file, that names no file or directory of `repo`.
///
/// A citation resolves if it exists relative to the repository root, to the citing file's
/// directory, or to the citing file's crate (the nearest directory with a `Cargo.toml`), or if it
/// is a suffix of whole path components of some repository path (`yaoshi-store/src/feed.rs`,
/// `unwrapped.rs`).
pub fn check_cited_paths(repo: &Repo) -> Vec<Finding> {
    let suffixes = suffix_index(repo);
    let mut findings = Vec::new();
    for path in repo.files().filter(|p| is_scanned(p)) {
        let Some(text) = repo.text(path) else { continue };
        let crate_dir = crate_dir(repo, path);
        for (line, token) in citations(text) {
            let allowed = ALLOWED_CITATIONS
                .iter()
                .any(|(f, t, _)| (*f == path || path == ALLOW_LIST_FILE) && *t == token);
            if !allowed && !resolves(repo, &suffixes, path, crate_dir, &token) {
                findings.push(Finding::new(
                    path,
                    line,
                    format!("cites `{token}`, which is not a file or directory of the repository"),
                ));
            }
        }
    }
    findings
}

/// Whether the text of `path` is scanned for citations.
fn is_scanned(path: &str) -> bool {
    path.starts_with(".ci/")
        || path.rsplit_once('.').is_some_and(|(_, ext)| SCANNED_EXTENSIONS.contains(&ext))
}

/// The citations of `text`: (1-based line, token).
pub(crate) fn citations(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for raw in line.split(|c: char| c.is_whitespace() || SEPARATORS.contains(&c)) {
            if let Some(token) = citation(raw) {
                out.push((i + 1, token));
            }
        }
    }
    out
}

/// The cited path in one token, if the token is a citation.
fn citation(raw: &str) -> Option<String> {
    // Sentence punctuation after the token, and Markdown bold around it.
    const PUNCTUATION: [char; 4] = ['.', ':', ',', '?'];
    let token = raw.trim_end_matches(PUNCTUATION);
    let token = token.strip_prefix("**").unwrap_or(token);
    let token = token.strip_suffix("**").unwrap_or(token).trim_end_matches(PUNCTUATION);
    let token = token.split_once('#').map_or(token, |(path, _anchor)| path);
    let token = strip_line_numbers(token);
    if token.contains(':') || token.starts_with('/') || token.starts_with('~') {
        return None;
    }
    if token.contains(NOT_A_PATH) {
        return None;
    }
    let name = token.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let has_extension =
        CITED_EXTENSIONS.iter().any(|ext| name.ends_with(ext) && name.len() > ext.len());
    let has_prefix = CITED_PREFIXES.iter().any(|prefix| token.starts_with(prefix));
    (has_extension || has_prefix).then(|| token.to_string())
}

/// Drops a line suffix: `<file>:12`, `<file>:12:5` and `<file>:10-20` all become `<file>`.
fn strip_line_numbers(token: &str) -> &str {
    let mut token = token;
    while let Some((head, tail)) = token.rsplit_once(':') {
        if tail.is_empty() || !tail.chars().all(|c| c.is_ascii_digit() || c == '-') {
            break;
        }
        token = head;
    }
    token
}

/// Every path of the repository and every suffix of it that starts at a component boundary.
fn suffix_index(repo: &Repo) -> HashSet<&str> {
    let mut suffixes = HashSet::new();
    for path in repo.files().chain(repo.dirs()) {
        suffixes.insert(path);
        for (i, _) in path.match_indices('/') {
            suffixes.insert(&path[i + 1..]);
        }
    }
    suffixes
}

/// The crate directory of `path`: the nearest ancestor with a `Cargo.toml` ("" if none).
fn crate_dir<'a>(repo: &Repo, path: &'a str) -> &'a str {
    let mut dir = parent(path);
    while !dir.is_empty() {
        if repo.is_file(&format!("{dir}/Cargo.toml")) {
            return dir;
        }
        dir = parent(dir);
    }
    ""
}

/// Whether `token`, cited in `path`, names a repository file or directory.
fn resolves(
    repo: &Repo,
    suffixes: &HashSet<&str>,
    path: &str,
    crate_dir: &str,
    token: &str,
) -> bool {
    let token = token.trim_end_matches('/');
    for base in ["", parent(path), crate_dir] {
        if join_normalised(base, token).is_some_and(|p| !p.is_empty() && repo.exists(&p)) {
            return true;
        }
    }
    let plain = token.split('/').all(|c| !c.is_empty() && c != "." && c != "..");
    plain && suffixes.contains(token)
}
