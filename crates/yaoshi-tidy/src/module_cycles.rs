//! Check (c): no import cycle between the modules of one crate.
//!
//! Modules are files: in a target rooted at `src/lib.rs`, `src/<a>.rs` and `src/<a>/mod.rs` are
//! `a` and `src/<a>/<b>.rs` is `a::b`. Each file directly in `tests`, `benches`, `examples` or
//! `src/bin`, and each directory there with a `main.rs`, is a target of its own. Module A has an edge to B
//! when A's file uses B through `use crate::B…`, a path `crate::B::…`, `super::…`, `self::…`, or
//! `child::…` for a `mod child;` that A declares; a path names the longest prefix that is a module
//! file. `mod` declarations alone are not edges, and the crate root (the facade) is left out.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::rust_tokens::{Tok, Token, tokenize};
use crate::{Finding, Repo};

/// Top-level packages besides the ones under `crates/`.
const TOP_LEVEL_PACKAGES: &[&str] = &["chaos-tests", "benches"];

/// Directories of a package whose entries are targets of their own.
const TARGET_DIRS: &[&str] = &["tests", "benches", "examples", "src/bin"];

/// One compilation target: its name and its module files.
#[derive(Debug)]
struct Target {
    /// The target's directory, relative to the repository root (or the file, for one-file targets).
    name: String,
    /// Module path (`a::b`, "" for the root) → file.
    modules: BTreeMap<String, String>,
}

/// An edge's first occurrence: file and line.
type Evidence = (String, usize);

/// Findings, one per strongly connected group of modules, for every target of every package
/// (each `crates/*` with a `Cargo.toml`, `chaos-tests` and `benches`).
pub fn check_module_cycles(repo: &Repo) -> Vec<Finding> {
    let mut findings = Vec::new();
    for target in packages(repo).iter().flat_map(|p| targets(repo, p)) {
        let edges = target_edges(repo, &target);
        findings.extend(cycles(&target, &edges));
    }
    findings
}

/// The package directories.
fn packages(repo: &Repo) -> Vec<String> {
    let mut out: Vec<String> = repo
        .dirs()
        .filter(|d| d.strip_prefix("crates/").is_some_and(|name| !name.contains('/')))
        .map(str::to_string)
        .chain(TOP_LEVEL_PACKAGES.iter().map(|p| p.to_string()))
        .filter(|d| repo.is_file(&format!("{d}/Cargo.toml")))
        .collect();
    out.sort();
    out
}

/// The targets of package `pkg`.
fn targets(repo: &Repo, pkg: &str) -> Vec<Target> {
    let src = format!("{pkg}/src");
    let bin = format!("{src}/bin/");
    let mut main = Target { name: src.clone(), modules: BTreeMap::new() };
    for file in files_under(repo, &src).filter(|f| !f.starts_with(&bin)) {
        let rel = &file[src.len() + 1..];
        main.modules.insert(module_path(rel, &["lib", "main"]), file.to_string());
    }
    let mut out = vec![main];
    for dir in TARGET_DIRS {
        let dir = format!("{pkg}/{dir}");
        let mut grouped: BTreeMap<String, Target> = BTreeMap::new();
        for file in files_under(repo, &dir) {
            let rel = &file[dir.len() + 1..];
            match rel.split_once('/') {
                None => {
                    let modules = BTreeMap::from([(String::new(), file.to_string())]);
                    out.push(Target { name: file.to_string(), modules });
                }
                Some((name, inner)) => {
                    let target_dir = format!("{dir}/{name}");
                    if !repo.is_file(&format!("{target_dir}/main.rs")) {
                        continue;
                    }
                    let target = grouped
                        .entry(target_dir.clone())
                        .or_insert_with(|| Target { name: target_dir, modules: BTreeMap::new() });
                    target.modules.insert(module_path(inner, &["main"]), file.to_string());
                }
            }
        }
        out.extend(grouped.into_values());
    }
    out
}

/// The `.rs` files below directory `dir`.
fn files_under<'a>(repo: &'a Repo, dir: &str) -> impl Iterator<Item = &'a str> {
    let prefix = format!("{dir}/");
    repo.files().filter(move |f| f.starts_with(&prefix) && f.ends_with(".rs"))
}

/// The module path of a file at `rel` below its target directory ("" for a root file).
fn module_path(rel: &str, roots: &[&str]) -> String {
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    if roots.contains(&rel) {
        return String::new();
    }
    let mut parts: Vec<&str> = rel.split('/').collect();
    if parts.len() > 1 && parts.last() == Some(&"mod") {
        parts.pop();
    }
    parts.join("::")
}

/// The edges between the non-root modules of `target`, each with its first occurrence.
fn target_edges(repo: &Repo, target: &Target) -> BTreeMap<(String, String), Evidence> {
    let modules: BTreeSet<&str> = target.modules.keys().map(String::as_str).collect();
    let mut edges = BTreeMap::new();
    for (module, file) in &target.modules {
        if module.is_empty() {
            continue;
        }
        let Some(text) = repo.text(file) else { continue };
        for (to, line) in module_edges(module, &tokenize(text), &modules) {
            edges.entry((module.clone(), to)).or_insert_with(|| (file.clone(), line));
        }
    }
    edges
}

/// The modules (other than itself and the root) that `module`'s tokens use, with the line of
/// each use.
pub(crate) fn module_edges(
    module: &str,
    tokens: &[Token],
    modules: &BTreeSet<&str>,
) -> Vec<(String, usize)> {
    let me: Vec<String> = module.split("::").map(str::to_string).collect();
    let children = declared_children(tokens);
    let tok = |i: usize| tokens.get(i).map(|t| &t.tok);
    let mut out = Vec::new();
    let mut emit = |path: &[String], ctx: &[String], line: usize| {
        let Some(abs) = absolute(path, ctx, &me, &children) else { return };
        if let Some(to) = longest_module(&abs, modules)
            && !to.is_empty()
            && to != module
        {
            out.push((to, line));
        }
    };
    // The inline modules (`mod tests { … }`) the scan is inside, with their brace depth.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut pending_inline: Option<String> = None;
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        let ctx: Vec<String> =
            me.iter().cloned().chain(inline.iter().map(|(n, _)| n.clone())).collect();
        match &tokens[i].tok {
            Tok::Ident(w) if w == "mod" => {
                if let (Some(Tok::Ident(name)), Some(Tok::Open)) = (tok(i + 1), tok(i + 2)) {
                    pending_inline = Some(name.clone());
                }
                i += 1;
            }
            Tok::Open => {
                depth += 1;
                if let Some(name) = pending_inline.take() {
                    inline.push((name, depth));
                }
                i += 1;
            }
            Tok::Close => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            Tok::Ident(w) if w == "use" => {
                let end =
                    (i..tokens.len()).find(|&j| tok(j) == Some(&Tok::Semi)).unwrap_or(tokens.len());
                let mut paths = Vec::new();
                parse_use_tree(&tokens[i + 1..end], &mut 0, Vec::new(), &mut paths);
                for (path, line) in paths {
                    emit(&path, &ctx, line);
                }
                i = end + 1;
            }
            Tok::Ident(first)
                if tok(i + 1) == Some(&Tok::PathSep)
                    && (i == 0 || tok(i - 1) != Some(&Tok::PathSep)) =>
            {
                let line = tokens[i].line;
                let mut path = vec![first.clone()];
                let mut j = i + 1;
                while tok(j) == Some(&Tok::PathSep) {
                    let Some(Tok::Ident(seg)) = tok(j + 1) else { break };
                    path.push(seg.clone());
                    j += 2;
                }
                emit(&path, &ctx, line);
                i = j;
            }
            _ => i += 1,
        }
    }
    out
}

/// The names of `mod name;` declarations (modules in files of their own).
fn declared_children(tokens: &[Token]) -> BTreeSet<String> {
    tokens
        .windows(3)
        .filter_map(|w| match (&w[0].tok, &w[1].tok, &w[2].tok) {
            (Tok::Ident(m), Tok::Ident(name), Tok::Semi) if m == "mod" => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// Expands a use tree into its paths, each with the line of its last segment.
fn parse_use_tree(
    toks: &[Token],
    pos: &mut usize,
    prefix: Vec<String>,
    out: &mut Vec<(Vec<String>, usize)>,
) {
    let tok = |i: usize| toks.get(i).map(|t| &t.tok);
    let mut path = prefix;
    let mut line = toks.get(*pos).map_or(0, |t| t.line);
    if tok(*pos) == Some(&Tok::PathSep) {
        // `::name`: an external crate, never one of ours.
        path.push("::".to_string());
        *pos += 1;
    }
    loop {
        match tok(*pos) {
            Some(Tok::Ident(seg)) => {
                line = toks[*pos].line;
                path.push(seg.clone());
                *pos += 1;
                if tok(*pos) == Some(&Tok::PathSep) {
                    *pos += 1;
                    continue;
                }
                if matches!(tok(*pos), Some(Tok::Ident(w)) if w == "as") {
                    *pos += 2;
                }
                break;
            }
            Some(Tok::Star) => {
                *pos += 1;
                break;
            }
            Some(Tok::Open) => {
                *pos += 1;
                loop {
                    match tok(*pos) {
                        None => return,
                        Some(Tok::Close) => {
                            *pos += 1;
                            return;
                        }
                        Some(Tok::Comma) => *pos += 1,
                        Some(_) => {
                            let before = *pos;
                            parse_use_tree(toks, pos, path.clone(), out);
                            if *pos == before {
                                *pos += 1;
                            }
                        }
                    }
                }
            }
            _ => break,
        }
    }
    if !path.is_empty() {
        out.push((path, line));
    }
}

/// The crate-absolute form of `path`, used in context `ctx` (the file's module `me` plus any inline
/// modules around the use); `None` for paths into other crates.
fn absolute(
    path: &[String],
    ctx: &[String],
    me: &[String],
    children: &BTreeSet<String>,
) -> Option<Vec<String>> {
    let first = path.first()?;
    let mut abs: Vec<String> = match first.as_str() {
        "crate" => path[1..].to_vec(),
        "self" => ctx.iter().chain(&path[1..]).cloned().collect(),
        "super" => {
            let ups = path.iter().take_while(|s| *s == "super").count();
            if ups > ctx.len() {
                return None;
            }
            ctx[..ctx.len() - ups].iter().chain(&path[ups..]).cloned().collect()
        }
        name if children.contains(name) => me.iter().chain(path).cloned().collect(),
        _ => return None,
    };
    // `use a::{self, B}` leaves a `self` segment behind its module.
    abs.retain(|s| s != "self");
    Some(abs)
}

/// The longest prefix of `abs` that is a module of the target.
fn longest_module(abs: &[String], modules: &BTreeSet<&str>) -> Option<String> {
    (0..=abs.len()).rev().map(|n| abs[..n].join("::")).find(|m| modules.contains(m.as_str()))
}

/// One finding per strongly connected group of two or more modules.
fn cycles(target: &Target, edges: &BTreeMap<(String, String), Evidence>) -> Vec<Finding> {
    let mut adjacency: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        adjacency.entry(from).or_default().insert(to);
        adjacency.entry(to).or_default();
    }
    let mut findings = Vec::new();
    for group in strongly_connected(&adjacency).into_iter().filter(|g| g.len() > 1) {
        let cycle = shortest_cycle(group[0], &group, &adjacency);
        let steps: Vec<String> = cycle
            .windows(2)
            .map(|w| {
                let (file, line) = &edges[&(w[0].to_string(), w[1].to_string())];
                format!("{} -> {} at {file}:{line}", w[0], w[1])
            })
            .collect();
        let (file, line) = &edges[&(cycle[0].to_string(), cycle[1].to_string())];
        let mut message = format!(
            "import cycle in {}: {} ({})",
            target.name,
            cycle.join(" -> "),
            steps.join("; ")
        );
        if group.len() > cycle.len() - 1 {
            message.push_str(&format!("; all modules of the cycle: {}", group.join(", ")));
        }
        findings.push(Finding::new(file, *line, message));
    }
    findings
}

/// Tarjan's strongly connected components, each sorted, in a deterministic order.
fn strongly_connected<'a>(adjacency: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Vec<Vec<&'a str>> {
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(v: &'a str, adjacency: &BTreeMap<&'a str, BTreeSet<&'a str>>, s: &mut State<'a>) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for &w in &adjacency[v] {
            if !s.index.contains_key(w) {
                visit(w, adjacency, s);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                group.push(w);
                if w == v {
                    break;
                }
            }
            group.sort();
            s.out.push(group);
        }
    }
    let mut state = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for &v in adjacency.keys() {
        if !state.index.contains_key(v) {
            visit(v, adjacency, &mut state);
        }
    }
    state.out.sort();
    state.out
}

/// The shortest cycle from `start` back to it within `group`, as a module list that begins and
/// ends with `start`.
fn shortest_cycle<'a>(
    start: &'a str,
    group: &[&'a str],
    adjacency: &BTreeMap<&'a str, BTreeSet<&'a str>>,
) -> Vec<&'a str> {
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in &adjacency[v] {
            if !group.contains(&w) {
                continue;
            }
            if w == start {
                // Walk back from v to start, then turn the list around.
                let mut cycle = vec![start];
                let mut at = v;
                loop {
                    cycle.push(at);
                    if at == start {
                        break;
                    }
                    at = previous[at];
                }
                cycle.reverse();
                return cycle;
            }
            if !previous.contains_key(w) {
                previous.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    vec![start, start]
}
