//! [`PgTarget`]: where a managed database account lives, parsed from a secret's `DBInstanceId`.

use std::fmt;

use crate::RotationError;

/// The PostgreSQL port used when `DBInstanceId` names none.
pub const DEFAULT_PORT: u16 = 5432;

/// Where a managed database account lives: parsed from the secret's ExtendedConfig
/// `DBInstanceId` by [`PgTarget::parse`].
///
/// It holds no credential: the account and password come from the secret's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgTarget {
    host: String,
    port: u16,
    dbname: String,
}

impl PgTarget {
    /// Parses `DBInstanceId`: `host[:port]/dbname` or `postgres://host[:port]/dbname`
    /// (`postgresql://` too).
    ///
    /// - `host` is a DNS name or IPv4 address, or an IPv6 address in brackets (`[::1]:5432/db`).
    /// - `port` defaults to [`DEFAULT_PORT`]; `dbname` is required (one path segment).
    /// - The only query parameter understood is `sslmode`, and only `disable` and `prefer` are
    ///   accepted (connections are plain TCP: `require` and stricter would be a silent
    ///   downgrade, so they are refused).
    /// - User information (`user:password@`) is refused: credentials belong in the secret's
    ///   value, never in its ExtendedConfig. The error text does not repeat the input.
    ///
    /// Any refusal is [`RotationError::BadTarget`].
    pub fn parse(db_instance_id: &str) -> Result<PgTarget, RotationError> {
        let s = db_instance_id.trim();
        if s.is_empty() {
            return Err(bad("DBInstanceId is empty"));
        }
        let rest = ["postgres://", "postgresql://"]
            .iter()
            .find_map(|scheme| strip_prefix_ignore_case(s, scheme))
            .unwrap_or(s);
        if rest.contains("://") {
            return Err(bad("DBInstanceId has a scheme other than postgres:// or postgresql://"));
        }
        if let Some(c) = rest.chars().find(|c| c.is_whitespace() || c.is_control()) {
            let what = if c.is_whitespace() { "whitespace" } else { "a control character" };
            return Err(bad(&format!("DBInstanceId contains {what}")));
        }
        if rest.contains('#') {
            return Err(bad("DBInstanceId contains a fragment ('#')"));
        }
        let (before_query, query) = match rest.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match before_query.split_once('/') {
            Some((a, p)) => (a, p),
            None => (before_query, ""),
        };
        if authority.contains('@') {
            return Err(bad(
                "DBInstanceId contains credentials ('user:password@'); they belong in the secret value",
            ));
        }
        let (host, port) = parse_authority(authority)?;
        let dbname = parse_dbname(path)?;
        if let Some(query) = query {
            check_query(query)?;
        }
        Ok(PgTarget { host, port, dbname })
    }

    /// The host: a DNS name or an IP address (an IPv6 address without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database connected to (for authentication, `SELECT 1` and `ALTER ROLE`).
    pub fn dbname(&self) -> &str {
        &self.dbname
    }
}

impl fmt::Display for PgTarget {
    /// `postgres://host:port/dbname` (IPv6 hosts in brackets); never holds a credential.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "postgres://[{}]:{}/{}", self.host, self.port, self.dbname)
        } else {
            write!(f, "postgres://{}:{}/{}", self.host, self.port, self.dbname)
        }
    }
}

fn bad(reason: &str) -> RotationError {
    RotationError::BadTarget { reason: reason.to_string() }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn parse_authority(authority: &str) -> Result<(String, u16), RotationError> {
    if authority.is_empty() {
        return Err(bad("DBInstanceId names no host"));
    }
    if authority.contains(',') {
        return Err(bad("DBInstanceId names several hosts; one is supported"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("DBInstanceId has an unclosed '[' in its host"))?;
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad("DBInstanceId has an invalid IPv6 address in brackets"));
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(|| bad("DBInstanceId has text after ']'"))?),
        };
        (addr.to_string(), port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(bad("DBInstanceId names no host"));
    }
    if !host.contains(':')
        && !host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
    {
        return Err(bad("DBInstanceId host has characters not allowed in a host name"));
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n != 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(bad("DBInstanceId port is not a number from 1 to 65535")),
        },
    };
    Ok((host, port))
}

fn parse_dbname(path: &str) -> Result<String, RotationError> {
    if path.is_empty() {
        return Err(bad("DBInstanceId names no database (expected host:port/dbname)"));
    }
    if path.contains('/') {
        return Err(bad("DBInstanceId database name contains '/'"));
    }
    if path.contains('%') {
        return Err(bad("DBInstanceId database name is percent-encoded; write it plainly"));
    }
    Ok(path.to_string())
}

fn check_query(query: &str) -> Result<(), RotationError> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => match value {
                "disable" | "prefer" => {}
                "require" | "verify-ca" | "verify-full" => {
                    return Err(bad(&format!(
                        "DBInstanceId asks for sslmode={value}, but rotation connects without TLS"
                    )));
                }
                _ => return Err(bad("DBInstanceId has an unknown sslmode")),
            },
            _ => return Err(bad("DBInstanceId has a query parameter other than sslmode")),
        }
    }
    Ok(())
}
