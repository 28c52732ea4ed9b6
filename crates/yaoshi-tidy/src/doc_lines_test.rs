//! Tests for the `//!` first-line check.

use crate::check_doc_lines;
use crate::fixture::{path, repo};

#[test]
fn flags_files_without_a_doc_line_only_in_crate_folders() {
    let repo = repo(&[
        ("<x>/src/lib.rs", "//! The x crate.\nmod a;\n"),
        ("<x>/src/a.rs", "use std::fs;\n//! Too late.\n"),
        ("<x>/build.rs", "fn main() {}\n"),
        ("<benches>/src/main.rs", "// A plain comment.\n"),
        ("<chaos>/src/empty.rs", ""),
        ("<docs>/other.rs", "fn main() {}\n"),
    ]);
    let flagged: Vec<_> =
        check_doc_lines(&repo).into_iter().map(|f| format!("{}:{}", f.path, f.line)).collect();
    let expected: Vec<_> =
        ["<benches>/src/main.rs:1", "<chaos>/src/empty.rs:1", "<x>/build.rs:1", "<x>/src/a.rs:1"]
            .iter()
            .map(|p| path(p))
            .collect();
    assert_eq!(flagged, expected);
}
