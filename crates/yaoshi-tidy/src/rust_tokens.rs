//! A small Rust tokenizer: identifiers and the punctuation that shapes paths and use trees, with
//! comments, string and character literals removed.

/// The kinds of token the module-graph reader needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// An identifier or keyword.
    Ident(String),
    /// `::`.
    PathSep,
    /// `{`.
    Open,
    /// `}`.
    Close,
    /// `;`.
    Semi,
    /// `,`.
    Comma,
    /// `*`.
    Star,
    /// Any other punctuation.
    Other,
}

/// A token and its 1-based line.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) line: usize,
}

/// The tokens of `src`. Comments (`//`, `/* */`, doc comments), string literals (plain, raw,
/// byte, C) and character literals produce no tokens; numbers are dropped.
pub(crate) fn tokenize(src: &str) -> Vec<Token> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '/' if at(i + 1) == '/' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => {
                let mut depth = 0;
                while i < chars.len() {
                    if chars[i] == '/' && at(i + 1) == '*' {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if chars[i] == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
            }
            '"' => i = skip_string(&chars, i + 1, &mut line),
            '\'' => {
                if at(i + 1) == '\\' {
                    // An escaped character literal: skip the escape, then to the closing quote.
                    i += 3;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                } else if at(i + 2) == '\'' {
                    i += 3;
                } else {
                    // A lifetime or label: its name follows as an identifier.
                    i += 1;
                }
            }
            c if c.is_ascii_digit() => {
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                // String prefixes: b"..", r"..", r#".."#, br"..", c"..", cr#".."#.
                if matches!(word.as_str(), "b" | "r" | "br" | "c" | "cr") {
                    if at(i) == '"' {
                        i = if word.contains('r') {
                            skip_raw_string(&chars, i, 0, &mut line)
                        } else {
                            skip_string(&chars, i + 1, &mut line)
                        };
                        continue;
                    }
                    if word.contains('r') && at(i) == '#' {
                        let hashes = chars[i..].iter().take_while(|&&h| h == '#').count();
                        if at(i + hashes) == '"' {
                            i = skip_raw_string(&chars, i + hashes, hashes, &mut line);
                            continue;
                        }
                        if word == "r" && hashes == 1 {
                            // A raw identifier, r#name: the name follows.
                            i += 1;
                            continue;
                        }
                    }
                }
                out.push(Token { tok: Tok::Ident(word), line });
            }
            ':' if at(i + 1) == ':' => {
                out.push(Token { tok: Tok::PathSep, line });
                i += 2;
            }
            _ => {
                let tok = match c {
                    '{' => Tok::Open,
                    '}' => Tok::Close,
                    ';' => Tok::Semi,
                    ',' => Tok::Comma,
                    '*' => Tok::Star,
                    _ => Tok::Other,
                };
                out.push(Token { tok, line });
                i += 1;
            }
        }
    }
    out
}

/// Skips a string body starting after its opening quote; returns the index after the closing one.
fn skip_string(chars: &[char], mut i: usize, line: &mut usize) -> usize {
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                if chars.get(i + 1) == Some(&'\n') {
                    *line += 1;
                }
                i += 2;
            }
            '"' => return i + 1,
            '\n' => {
                *line += 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    i
}

/// Skips a raw string whose opening quote is at `i`, closed by a quote and `hashes` `#`s.
fn skip_raw_string(chars: &[char], mut i: usize, hashes: usize, line: &mut usize) -> usize {
    i += 1;
    while i < chars.len() {
        if chars[i] == '"'
            && chars[i + 1..].iter().take(hashes).filter(|&&h| h == '#').count() == hashes
        {
            return i + 1 + hashes;
        }
        if chars[i] == '\n' {
            *line += 1;
        }
        i += 1;
    }
    i
}
