//! Tests for the module import-cycle check, on synthetic crates.

use crate::check_module_cycles;
use crate::fixture::{path, repo};

/// The findings' messages for a crate `<x>` made of `files` (paths below `<x>/`).
fn cycles_in(files: &[(&str, &str)]) -> Vec<String> {
    let mut all = vec![("<x>/Cargo.toml".to_string(), "[package]\n")];
    all.extend(files.iter().map(|(p, t)| (format!("<x>/{p}"), *t)));
    let all: Vec<(&str, &str)> = all.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    check_module_cycles(&repo(&all)).into_iter().map(|f| f.to_string()).collect()
}

#[test]
fn a_two_module_cycle_is_detected() {
    let found = cycles_in(&[
        ("src/lib<rs>", "//! X.\nmod a;\nmod b;\n"),
        ("src/a<rs>", "//! A.\nuse crate::b::B;\npub struct A;\n"),
        ("src/b<rs>", "//! B.\npub struct B;\nfn f() -> crate::a::A { crate::a::A }\n"),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    let expected = path(
        "<x>/src/a<rs>:2: import cycle in <x>/src: a -> b -> a \
         (a -> b at <x>/src/a<rs>:2; b -> a at <x>/src/b<rs>:3)",
    );
    assert_eq!(found[0], expected);
}

#[test]
fn a_parent_to_child_graph_passes() {
    let found = cycles_in(&[
        ("src/lib<rs>", "//! X.\nmod a;\npub use a::b::B;\n"),
        ("src/a/mod<rs>", "//! A.\nmod b;\nmod c;\nuse b::B;\nfn f() { self::c::g(); }\n"),
        ("src/a/b<rs>", "//! B.\npub struct B;\nuse crate::a::c::C;\n"),
        ("src/a/c<rs>", "//! C.\npub struct C;\npub fn g() {}\n"),
    ]);
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn comments_strings_and_the_crate_root_make_no_edges() {
    let found = cycles_in(&[
        ("src/lib<rs>", "//! X.\nmod a;\nmod b;\nuse a::A;\nuse b::B;\n"),
        ("src/a<rs>", "//! A.\nuse crate::b::B;\npub struct A;\n"),
        (
            "src/b<rs>",
            "//! B, unlike crate::a::A.\n// use crate::a::A;\n/* crate::a::A */\n\
             /// See [`crate::a::A`].\nconst S: &str = \"crate::a::A\";\nuse crate::Root;\n",
        ),
    ]);
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn super_resolves_to_parent_and_sibling() {
    let found = cycles_in(&[
        ("src/lib<rs>", "//! X.\nmod a;\n"),
        ("src/a/mod<rs>", "//! A.\nmod b;\nmod c;\n"),
        ("src/a/b<rs>", "//! B.\nuse super::c::C;\npub struct B;\n"),
        ("src/a/c<rs>", "//! C.\nuse super::{b::B, *};\npub struct C;\n"),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("a::b -> a::c -> a::b"), "{found:?}");
}

#[test]
fn inline_test_modules_refer_to_their_own_file() {
    let found = cycles_in(&[
        ("src/lib<rs>", "//! X.\nmod a;\n"),
        ("src/a/mod<rs>", "//! A.\nmod b;\nuse b::B;\n"),
        ("src/a/b<rs>", "//! B.\npub struct B;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n"),
    ]);
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn each_test_target_is_its_own_crate() {
    let found = cycles_in(&[
        ("src/lib<rs>", "//! X.\n"),
        ("tests/it/main<rs>", "//! Tests.\nmod p;\nmod q;\n"),
        ("tests/it/p<rs>", "//! P.\nuse crate::q;\n"),
        ("tests/it/q<rs>", "//! Q.\nuse crate::{p::{self, *}};\n"),
        ("tests/other<rs>", "//! Another target.\n"),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains(&path("import cycle in <x>/tests/it: p -> q -> p")), "{found:?}");
}
