//! The yaoshi binary.
fn main() {}
