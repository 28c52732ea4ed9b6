//! Tests for the `.gitignore` subset.

use crate::gitignore::{Ignore, glob_match};

#[test]
fn globs() {
    assert!(glob_match(b"*.swp", b"a.swp"));
    assert!(!glob_match(b"*.swp", b"dir/a.swp"));
    assert!(glob_match(b"**/x", b"a/b/x"));
    assert!(glob_match(b"a?c", b"abc"));
    assert!(!glob_match(b"a?c", b"a/c"));
}

#[test]
fn anchored_unanchored_and_negated() {
    let mut ignore = Ignore::default();
    ignore.add("", "# comment\n/target\n/yaoshi-data\n*.swp\nbuild/\n!keep.swp\n");
    assert!(ignore.is_ignored("target", true));
    assert!(!ignore.is_ignored("pkg/x/target-notes", true));
    assert!(ignore.is_ignored("yaoshi-data", true));
    assert!(ignore.is_ignored("pkg/x/src/a.swp", false));
    assert!(!ignore.is_ignored("pkg/x/keep.swp", false));
    assert!(ignore.is_ignored("pkg/x/build", true));
    assert!(!ignore.is_ignored("pkg/x/build", false));
}

#[test]
fn nested_gitignore_applies_below_its_directory() {
    let mut ignore = Ignore::default();
    ignore.add("pkg/x", "/out\n");
    assert!(ignore.is_ignored("pkg/x/out", true));
    assert!(!ignore.is_ignored("out", true));
    assert!(!ignore.is_ignored("pkg/y/out", true));
}
