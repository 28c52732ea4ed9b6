//! A problem a check found: file, line and what is wrong.

use std::fmt;

/// One problem found by a check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// The file, relative to the repository root, with `/` separators.
    pub path: String,
    /// The 1-based line, or 0 when the finding concerns the whole file.
    pub line: usize,
    /// What is wrong, as a sentence fragment.
    pub message: String,
}

impl Finding {
    /// A finding at `path:line`.
    pub fn new(path: &str, line: usize, message: impl Into<String>) -> Finding {
        Finding { path: path.to_string(), line, message: message.into() }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path, self.message)
        } else {
            write!(f, "{}:{}: {}", self.path, self.line, self.message)
        }
    }
}
