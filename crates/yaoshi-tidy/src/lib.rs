//! Repository checks ("tidy") for the Yaoshi workspace, run by `cargo test -p yaoshi-tidy`.
//!
//! [`Repo`] is a snapshot of the repository's files (loaded from disk, skipping what git ignores,
//! or built in memory for tests). Each check takes it and returns [`Finding`]s naming file and line:
//!
//! - [`check_doc_lines`]: every Rust file under `crates/`, `chaos-tests/` and `benches/` opens with
//!   a `//!` line.
//! - [`check_cited_paths`]: every repository path cited in code, config and docs exists.
//! - [`check_module_cycles`]: no crate has an import cycle between its modules.
//! - [`check_error_table`]: the error-code table of docs/DESIGN.md §3 matches the code's.
//! - [`check_actions`]: yaoshi-api's action table agrees with its handlers and docs/API.md.
//!
//! The checks are plain string processing with std only; they are heuristics tuned to this
//! repository's code, not a Rust or Markdown parser.

mod action_table;
mod cited_paths;
mod doc_lines;
mod error_table;
mod finding;
mod gitignore;
mod module_cycles;
mod repo;
mod rust_tokens;

pub use action_table::{ActionRow, check_actions, check_api_md, check_handlers};
pub use cited_paths::{ALLOWED_CITATIONS, check_cited_paths};
pub use doc_lines::check_doc_lines;
pub use error_table::{DESIGN_DOC, check_error_table};
pub use finding::Finding;
pub use module_cycles::check_module_cycles;
pub use repo::Repo;

#[cfg(test)]
mod cited_paths_test;
#[cfg(test)]
mod doc_lines_test;
#[cfg(test)]
mod error_table_test;
#[cfg(test)]
mod fixture;
#[cfg(test)]
mod gitignore_test;
#[cfg(test)]
mod module_cycles_test;
