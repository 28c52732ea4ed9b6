//! A snapshot of the repository: every file and directory git would track, and the text of those
//! the checks read.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;

use crate::gitignore::Ignore;

/// Directory names never walked, wherever they are: git's own data and cargo's build output.
const SKIPPED_DIRS: &[&str] = &[".git", "target"];

/// Extensions of the files whose text is kept (the ones some check reads).
const TEXT_EXTENSIONS: &[&str] = &["rs", "toml", "md", "py", "proto", "sh", "txt"];

/// The repository's files, with paths relative to the root and `/` separators.
#[derive(Debug, Default)]
pub struct Repo {
    files: BTreeSet<String>,
    dirs: BTreeSet<String>,
    texts: BTreeMap<String, String>,
}

impl Repo {
    /// Walks the repository at `root`, skipping `.git/`, `target/` and whatever a `.gitignore`
    /// ignores, and reads the text of the files the checks look at.
    ///
    /// # Errors
    ///
    /// Any I/O error of the walk. Files that are not UTF-8 are kept without text.
    pub fn load(root: &Path) -> io::Result<Repo> {
        let mut repo = Repo::default();
        let mut ignore = Ignore::default();
        repo.walk(root, "", &mut ignore)?;
        Ok(repo)
    }

    fn walk(&mut self, root: &Path, dir: &str, ignore: &mut Ignore) -> io::Result<()> {
        let abs = if dir.is_empty() { root.to_path_buf() } else { root.join(dir) };
        if let Ok(text) = std::fs::read_to_string(abs.join(".gitignore")) {
            ignore.add(dir, &text);
        }
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(&abs)? {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else { continue };
            entries.push((name, entry.file_type()?));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, kind) in entries {
            let rel = if dir.is_empty() { name.clone() } else { format!("{dir}/{name}") };
            if kind.is_symlink() {
                continue;
            }
            if kind.is_dir() {
                if SKIPPED_DIRS.contains(&name.as_str()) || ignore.is_ignored(&rel, true) {
                    continue;
                }
                self.dirs.insert(rel.clone());
                self.walk(root, &rel, ignore)?;
            } else if kind.is_file() && !ignore.is_ignored(&rel, false) {
                if wants_text(&rel)
                    && let Ok(text) = String::from_utf8(std::fs::read(root.join(&rel))?)
                {
                    self.texts.insert(rel.clone(), text);
                }
                self.files.insert(rel);
            }
        }
        Ok(())
    }

    /// A repository made of the given files (path, text), for tests of the checks.
    pub fn from_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Repo {
        let mut repo = Repo::default();
        for (path, text) in files {
            let mut parent = path;
            while let Some((up, _)) = parent.rsplit_once('/') {
                repo.dirs.insert(up.to_string());
                parent = up;
            }
            repo.files.insert(path.to_string());
            repo.texts.insert(path.to_string(), text.to_string());
        }
        repo
    }

    /// Every file, sorted.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(String::as_str)
    }

    /// Every directory below the root, sorted.
    pub fn dirs(&self) -> impl Iterator<Item = &str> {
        self.dirs.iter().map(String::as_str)
    }

    /// The text of a file, if it was read (a checked kind of file, valid UTF-8).
    pub fn text(&self, path: &str) -> Option<&str> {
        self.texts.get(path).map(String::as_str)
    }

    /// Whether `path` (relative, normalised, "" for the root) is a file or directory.
    pub fn exists(&self, path: &str) -> bool {
        path.is_empty() || self.files.contains(path) || self.dirs.contains(path)
    }

    /// Whether `path` is a file.
    pub fn is_file(&self, path: &str) -> bool {
        self.files.contains(path)
    }
}

/// Whether the text of a file is kept.
fn wants_text(path: &str) -> bool {
    path.starts_with(".ci/")
        || path.rsplit_once('.').is_some_and(|(_, ext)| TEXT_EXTENSIONS.contains(&ext))
}

/// The directory part of `path` ("" for a file at the root).
pub(crate) fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// Joins `rel` onto directory `base` and removes `.` and `..` components; `None` if the result
/// would leave the repository.
pub(crate) fn join_normalised(base: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ => parts.push(part),
        }
    }
    Some(parts.join("/"))
}
