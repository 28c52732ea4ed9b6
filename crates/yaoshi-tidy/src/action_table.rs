//! The action table against its handlers and docs/API.md.
//!
//! The table (`yaoshi_api::ACTIONS`) is the truth; this check reads the handlers' source and the
//! status table of docs/API.md and fails when they disagree with it:
//! - every row's handler exists in `crates/yaoshi-api/src/actions/<module>.rs` with the handler
//!   signature, and every handler there is named by exactly one row (no orphans);
//! - a parameter the row requires is read by the handler (its name appears as a string literal
//!   in the handler or in a function of the same file it calls);
//! - a Write handler proposes a command, a Read or Data handler proposes none, and a Data handler
//!   touches nothing a crypto worker does not have (the node, fresh reads);
//! - docs/API.md's status table lists exactly the served actions, each with the row's plane, and
//!   its "Not yet served" list names none of them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One row of the action table, as this check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRow {
    /// Wire name.
    pub name: String,
    /// `write`, `read` or `data`.
    pub plane: String,
    /// The handler's path below `actions/`, e.g. `keys::create_key`.
    pub handler: String,
    /// Parameters the row requires.
    pub required: Vec<String>,
}

/// Everything wrong between `rows`, the handler sources under `actions_dir` and the text of
/// docs/API.md (`api_md`), one line per finding.
pub fn check_actions(rows: &[ActionRow], actions_dir: &Path, api_md: &str) -> Vec<String> {
    let mut sources = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(actions_dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else { continue };
            if path.extension().is_some_and(|e| e == "rs")
                && stem != "mod"
                && !stem.ends_with("_test")
                && let Ok(text) = std::fs::read_to_string(&path)
            {
                sources.insert(stem.to_string(), text);
            }
        }
    }
    let mut findings = check_handlers(rows, &sources);
    findings.extend(check_api_md(rows, api_md));
    findings
}

/// The handler half of [`check_actions`], over module name → source text.
pub fn check_handlers(rows: &[ActionRow], sources: &BTreeMap<String, String>) -> Vec<String> {
    let mut findings = Vec::new();
    let mut named = BTreeSet::new();
    for row in rows {
        let Some((module, function)) = row.handler.split_once("::") else {
            findings
                .push(format!("{}: handler `{}` is not `module::function`", row.name, row.handler));
            continue;
        };
        named.insert((module.to_string(), function.to_string()));
        let Some(source) = sources.get(module) else {
            findings.push(format!("{}: no module actions/{module}.rs", row.name));
            continue;
        };
        let functions = functions(source);
        let Some(f) = functions.get(function) else {
            findings.push(format!("{}: no fn {function} in actions/{module}.rs", row.name));
            continue;
        };
        if !f.is_handler {
            findings.push(format!(
                "{}: actions/{module}.rs fn {function} does not take (&ApiState, &RequestContext, &Params)",
                row.name
            ));
        }
        let reach = reachable_text(&functions, function);
        for param in &row.required {
            if !reach.contains(&format!("\"{param}\"")) {
                findings.push(format!(
                    "{}: requires {param} but {} never reads it",
                    row.name, row.handler
                ));
            }
        }
        let proposes = reach.contains("propose");
        match row.plane.as_str() {
            "write" if !proposes => {
                findings.push(format!("{}: a write whose handler proposes nothing", row.name))
            }
            "read" | "data" if proposes => findings
                .push(format!("{}: a {} action whose handler proposes", row.name, row.plane)),
            _ => {}
        }
        if row.plane == "data" {
            for node_only in ["fresh_key", "state(api)", ".node()"] {
                if reach.contains(node_only) {
                    findings.push(format!(
                        "{}: a data-plane handler uses `{node_only}`, which a worker does not have",
                        row.name
                    ));
                }
            }
        }
    }
    for (module, source) in sources {
        for (name, f) in functions(source) {
            if f.is_handler && !named.contains(&(module.clone(), name.clone())) {
                findings.push(format!("actions/{module}.rs fn {name} is a handler no row names"));
            }
        }
    }
    findings
}

/// A function of a handler module: whether it has the handler signature, and its body.
struct Function {
    is_handler: bool,
    body: String,
}

/// The functions defined at any depth of `source`, by name (the last one wins on duplicates).
fn functions(source: &str) -> BTreeMap<String, Function> {
    let mut out = BTreeMap::new();
    let bytes = source.as_bytes();
    let mut at = 0;
    while let Some(found) = source[at..].find("fn ") {
        let start = at + found;
        at = start + 3;
        // `fn` must be a whole word.
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        let name: String =
            source[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if name.is_empty() {
            continue;
        }
        let Some(open) = source[at..].find('{').map(|i| at + i) else { break };
        let signature = &source[at..open];
        if signature.contains(';') {
            continue; // a declaration without a body
        }
        let Some(close) = matching_brace(source, open) else { break };
        let is_handler = signature.contains("&ApiState")
            && signature.contains("&RequestContext")
            && signature.contains("&Params");
        out.insert(name, Function { is_handler, body: source[open..=close].to_string() });
    }
    out
}

/// The index of the `}` closing the `{` at `open` (string literals are skipped).
fn matching_brace(source: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in source[open..].char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The bodies of `start` and of every function of the same file it calls, transitively.
fn reachable_text(functions: &BTreeMap<String, Function>, start: &str) -> String {
    let mut seen = BTreeSet::new();
    let mut todo = vec![start.to_string()];
    let mut text = String::new();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(f) = functions.get(&name) else { continue };
        text.push_str(&f.body);
        for callee in functions.keys() {
            if !seen.contains(callee) && calls(&f.body, callee) {
                todo.push(callee.clone());
            }
        }
    }
    text
}

/// Whether `body` calls (or names) the function `name`.
fn calls(body: &str, name: &str) -> bool {
    body.match_indices(name).any(|(i, _)| {
        let before = body[..i].chars().next_back();
        let after = body[i + name.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The docs/API.md half of [`check_actions`].
pub fn check_api_md(rows: &[ActionRow], api_md: &str) -> Vec<String> {
    let mut findings = Vec::new();
    let mut documented: BTreeMap<String, String> = BTreeMap::new();
    let mut in_status_table = false;
    let mut not_yet = String::new();
    let mut in_not_yet = false;
    for line in api_md.lines() {
        if line.starts_with("## ") {
            in_not_yet = line.trim() == "## Not yet served";
            in_status_table = false;
            continue;
        }
        if in_not_yet {
            not_yet.push_str(line);
            not_yet.push('\n');
        }
        if line.starts_with("| Action | Plane |") {
            in_status_table = true;
            continue;
        }
        if !in_status_table || line.starts_with("|---") {
            continue;
        }
        let Some(rest) = line.strip_prefix("| ") else {
            in_status_table = false;
            continue;
        };
        let mut cells = rest.split(" | ");
        let (Some(names), Some(plane)) = (cells.next(), cells.next()) else { continue };
        for name in names.split(" / ") {
            if documented.insert(name.to_string(), plane.to_string()).is_some() {
                findings.push(format!("docs/API.md: {name} has two rows"));
            }
        }
    }
    let served: BTreeMap<&str, &str> =
        rows.iter().map(|r| (r.name.as_str(), r.plane.as_str())).collect();
    for (name, plane) in &documented {
        match served.get(name.as_str()) {
            None => findings
                .push(format!("docs/API.md lists {name}, which the action table does not serve")),
            Some(p) if p != plane => findings
                .push(format!("docs/API.md: {name} is `{plane}`, the action table says `{p}`")),
            Some(_) => {}
        }
    }
    for name in served.keys() {
        if !documented.contains_key(*name) {
            findings.push(format!("{name} is served but has no row in docs/API.md"));
        }
        if not_yet.split(|c: char| !c.is_ascii_alphanumeric()).any(|word| word == *name) {
            findings.push(format!("docs/API.md lists {name} as not yet served"));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, plane: &str, handler: &str, required: &[&str]) -> ActionRow {
        ActionRow {
            name: name.into(),
            plane: plane.into(),
            handler: handler.into(),
            required: required.iter().map(|s| s.to_string()).collect(),
        }
    }

    const KEYS: &str = r#"
pub(super) async fn create_key(api: &ApiState, ctx: &RequestContext, p: &Params) -> Result<Fields, ApiError> {
    let d = description(p)?;
    propose_unit(api, ctx, Command::X { d }).await
}
fn description(p: &Params) -> Result<&str, ApiError> { p.required("Description") }
pub(super) async fn describe_key(api: &ApiState, _ctx: &RequestContext, p: &Params) -> Result<Fields, ApiError> {
    resolve_key(api, p.required("KeyId")?)
}
"#;

    fn sources(text: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("keys".to_string(), text.to_string())])
    }

    #[test]
    fn agreeing_rows_pass() {
        let rows = [
            row("CreateKey", "write", "keys::create_key", &["Description"]),
            row("DescribeKey", "read", "keys::describe_key", &["KeyId"]),
        ];
        assert_eq!(check_handlers(&rows, &sources(KEYS)), Vec::<String>::new());
    }

    #[test]
    fn disagreements_are_found() {
        let rows = [
            // Requires a parameter the handler never reads, and is a write that proposes nothing.
            row("DescribeKey", "write", "keys::describe_key", &["KeyVersionId"]),
            row("Gone", "read", "keys::gone", &[]),
        ];
        let findings = check_handlers(&rows, &sources(KEYS));
        let text = findings.join("\n");
        assert!(text.contains("requires KeyVersionId"), "{text}");
        assert!(text.contains("proposes nothing"), "{text}");
        assert!(text.contains("no fn gone"), "{text}");
        assert!(text.contains("fn create_key is a handler no row names"), "{text}");
    }

    #[test]
    fn data_plane_handlers_stay_off_the_node() {
        let src = "pub(super) async fn encrypt(api: &ApiState, _c: &RequestContext, p: &Params) -> R { let k = fresh_key(api, \"KeyId\").await?; }";
        let findings =
            check_handlers(&[row("Encrypt", "data", "keys::encrypt", &[])], &sources(src));
        assert!(findings.iter().any(|f| f.contains("fresh_key")), "{findings:?}");
    }

    #[test]
    fn api_md_must_list_exactly_the_served_actions() {
        let rows =
            [row("EnableKey", "write", "k::e", &[]), row("DisableKey", "write", "k::d", &[])];
        let good = "| Action | Plane | Status | Notes |\n|---|---|---|---|\n| EnableKey / DisableKey | write | done | x |\n\n## Not yet served\n\nCreateSecret.\n";
        assert_eq!(check_api_md(&rows, good), Vec::<String>::new());
        let wrong_plane = good.replace("| write |", "| read |");
        assert_eq!(check_api_md(&rows, &wrong_plane).len(), 2);
        let missing = good.replace("EnableKey / ", "");
        assert!(check_api_md(&rows, &missing)[0].contains("EnableKey is served"));
        let extra = good.replace("DisableKey |", "DisableKey / CreateSecret |");
        assert!(check_api_md(&rows, &extra).iter().any(|f| f.contains("CreateSecret")));
        let listed_as_not_yet = good.replace("CreateSecret.", "CreateSecret, EnableKey.");
        assert!(check_api_md(&rows, &listed_as_not_yet)[0].contains("not yet"));
    }
}
