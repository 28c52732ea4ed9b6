//! Check (d): the error-code table in docs/DESIGN.md §3 lists exactly the codes of the code's
//! table, each with the same HTTP status.

use std::collections::BTreeMap;

use crate::{Finding, Repo};

/// The document holding the error-code table.
pub const DESIGN_DOC: &str = "docs/DESIGN.md";

/// Findings where the table under the first heading of [`DESIGN_DOC`] that mentions "error codes"
/// differs from `expected` (code string, HTTP status): missing, extra, duplicate or malformed
/// rows and status mismatches.
///
/// Table rows are Markdown rows whose first cell is the code (backticks allowed) and whose second
/// cell is the HTTP status; the header row (first cell `Code`) and separator rows are skipped.
pub fn check_error_table(repo: &Repo, expected: &[(&str, u16)]) -> Vec<Finding> {
    let Some(text) = repo.text(DESIGN_DOC) else {
        return vec![Finding::new(DESIGN_DOC, 0, "missing: it must hold the error-code table")];
    };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let Some((heading, _)) = lines
        .by_ref()
        .find(|(_, l)| l.starts_with('#') && l.to_lowercase().contains("error codes"))
    else {
        return vec![Finding::new(DESIGN_DOC, 0, "has no heading naming \"Error codes\"")];
    };

    let mut findings = Vec::new();
    let mut documented: BTreeMap<String, (usize, u16)> = BTreeMap::new();
    for (line, text) in lines.take_while(|(_, l)| !l.starts_with('#')) {
        let Some(cells) = row_cells(text) else { continue };
        let code = cells[0].trim_matches('`');
        if code == "Code" || cells.iter().all(|c| c.chars().all(|ch| matches!(ch, '-' | ':'))) {
            continue;
        }
        let Some(status) = cells.get(1).and_then(|c| c.parse::<u16>().ok()) else {
            findings.push(Finding::new(
                DESIGN_DOC,
                line,
                format!("row `{code}` has no HTTP status"),
            ));
            continue;
        };
        if documented.insert(code.to_string(), (line, status)).is_some() {
            findings.push(Finding::new(DESIGN_DOC, line, format!("`{code}` is listed twice")));
        }
    }

    for (code, status) in expected {
        match documented.remove(*code) {
            None => findings.push(Finding::new(
                DESIGN_DOC,
                heading,
                format!("`{code}` (HTTP {status}) is missing from the table"),
            )),
            Some((line, doc_status)) if doc_status != *status => findings.push(Finding::new(
                DESIGN_DOC,
                line,
                format!("`{code}` is HTTP {doc_status} here but {status} in the code"),
            )),
            Some(_) => {}
        }
    }
    for (code, (line, _)) in documented {
        findings.push(Finding::new(
            DESIGN_DOC,
            line,
            format!("`{code}` is not an error code of the code"),
        ));
    }
    findings.sort();
    findings
}

/// The trimmed cells of a Markdown table row, or `None` if `line` is not one.
fn row_cells(line: &str) -> Option<Vec<&str>> {
    let inner = line.trim().strip_prefix('|')?;
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    Some(inner.split('|').map(str::trim).collect())
}
