//! The subset of `.gitignore` patterns the walk needs: globs with `*`, `?` and `**`, anchoring
//! with `/`, directory-only patterns and `!` negation.

/// The rules of every `.gitignore` read so far.
#[derive(Debug, Default)]
pub(crate) struct Ignore {
    rules: Vec<Rule>,
}

#[derive(Debug)]
struct Rule {
    /// The directory of the `.gitignore`, relative to the root ("" for the root).
    base: String,
    pattern: String,
    /// The pattern applies to the path below `base`, not to any base name.
    anchored: bool,
    dir_only: bool,
    negated: bool,
}

impl Ignore {
    /// Adds the rules of a `.gitignore` in directory `base` (relative to the root, "" for it).
    pub(crate) fn add(&mut self, base: &str, text: &str) {
        for line in text.lines() {
            let line = line.trim_end();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (negated, line) = match line.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, line),
            };
            let (dir_only, line) = match line.strip_suffix('/') {
                Some(rest) => (true, rest),
                None => (false, line),
            };
            let anchored = line.contains('/');
            let pattern = line.trim_start_matches('/').to_string();
            if pattern.is_empty() {
                continue;
            }
            self.rules.push(Rule { base: base.to_string(), pattern, anchored, dir_only, negated });
        }
    }

    /// Whether `path` (relative to the root) is ignored; the last matching rule decides.
    pub(crate) fn is_ignored(&self, path: &str, is_dir: bool) -> bool {
        let mut ignored = false;
        for rule in &self.rules {
            if rule.dir_only && !is_dir {
                continue;
            }
            let below = if rule.base.is_empty() {
                path
            } else {
                match path.strip_prefix(&rule.base).and_then(|p| p.strip_prefix('/')) {
                    Some(p) => p,
                    None => continue,
                }
            };
            let subject =
                if rule.anchored { below } else { below.rsplit('/').next().unwrap_or("") };
            if glob_match(rule.pattern.as_bytes(), subject.as_bytes()) {
                ignored = !rule.negated;
            }
        }
        ignored
    }
}

/// Matches `text` against a glob: `*` and `?` stay within one path component, `**` crosses them.
pub(crate) fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) if rest.first() == Some(&b'*') => {
            let rest = rest[1..].strip_prefix(b"/").unwrap_or(&rest[1..]);
            (0..=text.len()).any(|i| glob_match(rest, &text[i..]))
        }
        Some((b'*', rest)) => {
            let run = text.iter().position(|&c| c == b'/').unwrap_or(text.len());
            (0..=run).any(|i| glob_match(rest, &text[i..]))
        }
        Some((b'?', rest)) => {
            text.first().is_some_and(|&c| c != b'/') && glob_match(rest, &text[1..])
        }
        Some((&c, rest)) => text.first() == Some(&c) && glob_match(rest, &text[1..]),
    }
}
