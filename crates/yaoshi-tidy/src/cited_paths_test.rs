//! Tests for the cited-path check.

use crate::check_cited_paths;
use crate::cited_paths::citations;
use crate::fixture::{path, repo};

fn tokens(text: &str) -> Vec<String> {
    citations(&path(text)).into_iter().map(|(_, t)| t).collect()
}

#[test]
fn finds_citations_and_skips_what_is_not_a_path() {
    assert_eq!(
        tokens("See `<docs>/A<md>`, [b](B<md>#part) and (<x>/src/lib<rs>:12). Done."),
        [path("<docs>/A<md>"), path("B<md>"), path("<x>/src/lib<rs>")]
    );
    assert_eq!(tokens("**<docs>/C<md>**."), [path("<docs>/C<md>")]);
    // URLs, absolute paths, placeholders, format strings, globs, bare extensions, Rust paths.
    let skipped = "https://example.com/a<md> /abs/x<rs> ~/y<rs> <name><md> {dir}/z<rs> *<md> \
                   \"<rs>\" std::fs::read lib_rs";
    assert!(tokens(skipped).is_empty(), "{:?}", tokens(skipped));
}

#[test]
fn flags_a_missing_path_with_file_and_line() {
    let repo = repo(&[
        ("<x>/Cargo.toml", "[package]\n"),
        ("<x>/src/lib<rs>", "//! X.\n//! Rules in <docs>/NOPE<md> §1.\n"),
    ]);
    let findings = check_cited_paths(&repo);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!((findings[0].path.clone(), findings[0].line), (path("<x>/src/lib<rs>"), 2));
    assert!(findings[0].message.contains(&path("<docs>/NOPE<md>")));
}

#[test]
fn resolves_from_root_file_directory_crate_and_suffix() {
    let repo = repo(&[
        ("<docs>/DESIGN<md>", "See ../<x>/src/a<rs> and API<md>.\n"),
        ("<docs>/API<md>", "Suffixes: x/src/a<rs> and a<rs> are; yaoshi-x/src/a<rs> is not.\n"),
        ("<x>/Cargo.toml", "[package]\nbuild = \"build<rs>\"\n"),
        ("<x>/build<rs>", "//! Build.\n"),
        ("<x>/src/lib<rs>", "//! See build<rs>, src/a<rs>, <docs>/DESIGN<md> and <x>/src/.\n"),
        ("<x>/src/a<rs>", "//! A.\n"),
    ]);
    let findings = check_cited_paths(&repo);
    let messages: Vec<_> = findings.iter().map(|f| f.message.clone()).collect();
    let expected =
        path("cites `yaoshi-x/src/a<rs>`, which is not a file or directory of the repository");
    assert_eq!(messages, [expected]);
}
