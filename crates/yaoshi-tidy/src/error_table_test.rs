//! Tests for the error-code table check.

use crate::check_error_table;
use crate::fixture::repo;

const DOC: &str = "# Design\n\n## 3. Error codes\n\n| Code | HTTP | When |\n|---|---|---|\n\
                   | `A` | 400 | a |\n| `B` | 404 | b |\n\n## 4. Next\n\n| `C` | 500 | elsewhere |\n";

#[test]
fn a_matching_table_passes() {
    let repo = repo(&[("<docs>/DESIGN<md>", DOC)]);
    assert_eq!(check_error_table(&repo, &[("A", 400), ("B", 404)]), []);
}

#[test]
fn differences_are_flagged_with_their_line() {
    let repo = repo(&[("<docs>/DESIGN<md>", DOC)]);
    let findings: Vec<_> = check_error_table(&repo, &[("A", 409), ("D", 500)])
        .into_iter()
        .map(|f| format!("{}: {}", f.line, f.message))
        .collect();
    assert_eq!(
        findings,
        [
            "3: `D` (HTTP 500) is missing from the table",
            "7: `A` is HTTP 400 here but 409 in the code",
            "8: `B` is not an error code of the code",
        ]
    );
}

#[test]
fn a_missing_section_is_flagged() {
    let repo = repo(&[("<docs>/DESIGN<md>", "# Design\n")]);
    assert_eq!(check_error_table(&repo, &[("A", 400)]).len(), 1);
}
