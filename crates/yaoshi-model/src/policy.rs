//! The access-policy evaluator: one small, pure function of (policies, request) → decision, and a
//! compiled form of the same rules indexed for speed ([`CompiledPolicies`]), which must decide
//! exactly as [`evaluate`] does (the table-driven tests check both on every row).
//!
//! A request is allowed when at least one policy allows it; a policy allows it when
//! - one of its action patterns matches the action (`*` matches any run of characters, so
//!   `Encrypt*`, `Describe*` and `*`; an optional `kms:` prefix is ignored),
//! - every resource the request names is matched by one of its resource patterns (ARNs with `*`;
//!   a resource reached by several names — a key through its alias — is matched by any of them),
//! - and the request's source address is in one of its CIDR blocks (no blocks: any source).
//!
//! Nothing else allows: a credential whose access point has no policy, or that names a missing
//! access point, may do nothing (deny by default). The caller decides which credentials are held
//! to policies at all (an unscoped credential is not).

use std::collections::HashMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// The longest access point and policy name.
pub const MAX_NAME_LEN: usize = 64;

/// Whether `name` is a valid access point or policy name (`[A-Za-z0-9_.-]`, 1–64 characters).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The most policies an access point holds.
pub const MAX_POLICIES: usize = 1000;
/// The most actions, resources or CIDR blocks one policy lists.
pub const MAX_POLICY_ENTRIES: usize = 100;
/// The longest action or resource pattern.
pub const MAX_PATTERN_LEN: usize = 512;

/// One policy of an access point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Policy {
    /// Its name, unique in its access point.
    pub name: String,
    /// Allowed actions (patterns).
    pub actions: Vec<String>,
    /// Allowed resources (ARN patterns).
    pub resources: Vec<String>,
    /// Allowed source networks (`10.0.0.0/8`, `192.0.2.7`, `2001:db8::/32`); empty: any.
    #[serde(default)]
    pub source_cidrs: Vec<String>,
}

/// What a request asks for, as the evaluator sees it.
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    /// The action's wire name (`Encrypt`).
    pub action: &'a str,
    /// Each resource named, with all its names (ARNs). A request that names none is given the
    /// account-wide resource (`acs:kms:<region>:<account>:*`) by the caller, so only a policy
    /// with a pattern that covers it (`*`, `acs:kms:*:*:*`) allows CreateKey or ListKeys.
    pub resources: &'a [Vec<String>],
    /// Where the request came from (`None`: unknown, which no CIDR block matches).
    pub source: Option<IpAddr>,
}

/// Why a request was refused: the furthest test that the closest policy failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DenyReason {
    /// The access point has no policy (or does not exist).
    NoPolicy,
    /// No policy allows the action.
    Action,
    /// Policies allow the action, but not on these resources.
    Resource,
    /// Policies allow the action on these resources, but not from this network.
    Network,
}

impl DenyReason {
    /// A stable lower-case name (metrics, audit lines).
    pub fn as_str(self) -> &'static str {
        match self {
            DenyReason::NoPolicy => "no_policy",
            DenyReason::Action => "action",
            DenyReason::Resource => "resource",
            DenyReason::Network => "network",
        }
    }
}

/// The evaluator's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A policy allows the request.
    Allow,
    /// No policy does.
    Deny(DenyReason),
}

/// A policy that does not parse or exceeds the limits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy {policy:?}: {problem}")]
pub struct PolicyError {
    /// The policy's name.
    pub policy: String,
    /// What is wrong.
    pub problem: String,
}

impl Policy {
    /// Checks names, counts, pattern lengths and CIDR syntax.
    ///
    /// # Errors
    ///
    /// The first problem found.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let bad = |problem: String| Err(PolicyError { policy: self.name.clone(), problem });
        if !valid_name(&self.name) {
            return bad("the name must be 1-64 of A-Z a-z 0-9 _ . -".into());
        }
        for (what, list) in [("Actions", &self.actions), ("Resources", &self.resources)] {
            if list.is_empty() || list.len() > MAX_POLICY_ENTRIES {
                return bad(format!("{what} must list 1-{MAX_POLICY_ENTRIES} patterns"));
            }
            if let Some(p) = list.iter().find(|p| p.is_empty() || p.len() > MAX_PATTERN_LEN) {
                return bad(format!("{what} pattern {p:?} must be 1-{MAX_PATTERN_LEN} bytes"));
            }
        }
        if self.source_cidrs.len() > MAX_POLICY_ENTRIES {
            return bad(format!("SourceCidrs may list at most {MAX_POLICY_ENTRIES} blocks"));
        }
        if let Some(c) = self.source_cidrs.iter().find(|c| parse_cidr(c).is_none()) {
            return bad(format!("{c:?} is not a CIDR block or address"));
        }
        Ok(())
    }

    fn allows_action(&self, action: &str) -> bool {
        self.actions.iter().any(|p| glob(action_pattern(p), action))
    }

    fn allows_resources(&self, resources: &[Vec<String>]) -> bool {
        resources
            .iter()
            .all(|names| names.iter().any(|name| self.resources.iter().any(|p| glob(p, name))))
    }

    fn allows_source(&self, source: Option<IpAddr>) -> bool {
        self.source_cidrs.is_empty()
            || source.is_some_and(|ip| {
                self.source_cidrs.iter().filter_map(|c| parse_cidr(c)).any(|b| in_block(ip, b))
            })
    }

    /// How far this policy goes towards allowing `req`.
    fn decide(&self, req: &AccessRequest<'_>) -> Decision {
        if !self.allows_action(req.action) {
            Decision::Deny(DenyReason::Action)
        } else if !self.allows_resources(req.resources) {
            Decision::Deny(DenyReason::Resource)
        } else if !self.allows_source(req.source) {
            Decision::Deny(DenyReason::Network)
        } else {
            Decision::Allow
        }
    }
}

/// The reference evaluator: allowed when one policy allows; otherwise denied for the furthest
/// reason any policy reached.
pub fn evaluate(policies: &[Policy], req: &AccessRequest<'_>) -> Decision {
    let mut reason = DenyReason::NoPolicy;
    for p in policies {
        match p.decide(req) {
            Decision::Allow => return Decision::Allow,
            Decision::Deny(r) => reason = reason.max(r),
        }
    }
    Decision::Deny(reason)
}

/// An access point's policies indexed by action and resource, for the request path: a request
/// looks only at the policies that allow its action and whose resource patterns name its first
/// resource exactly, or start its name with their literal prefix (`acs:kms:*:*:key/app-*`),
/// plus those with other wildcard patterns — not at every policy.
#[derive(Debug, Clone, Default)]
pub struct CompiledPolicies {
    policies: Vec<Policy>,
    /// Per policy: its resource patterns and CIDR blocks, parsed once.
    compiled: Vec<CompiledPolicy>,
    /// Per action: policies by exact resource name, and policies with a wildcard resource.
    by_action: HashMap<String, ActionIndex>,
}

#[derive(Debug, Clone, Default)]
struct ActionIndex {
    /// Policies by a resource pattern without `*`.
    exact: HashMap<String, Vec<usize>>,
    /// Policies by the literal start of the resource name of an ARN pattern with `*`
    /// (`acs:kms:*:*:key/app-*` → `key/app-`; see [`arn_name_prefix`]).
    by_prefix: HashMap<String, Vec<usize>>,
    /// The lengths of the prefixes in `by_prefix`.
    prefix_lens: Vec<usize>,
    /// Policies with another `*` pattern.
    general: Vec<usize>,
    /// Every policy with a `*` pattern (for names `by_prefix` cannot be used for).
    wildcard: Vec<usize>,
}

impl ActionIndex {
    fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.wildcard.is_empty()
    }

    fn add(&mut self, i: usize, p: &Policy) {
        fn push(ids: &mut Vec<usize>, i: usize) {
            if ids.last() != Some(&i) {
                ids.push(i);
            }
        }
        for r in &p.resources {
            if !r.contains('*') {
                push(self.exact.entry(r.clone()).or_default(), i);
                continue;
            }
            push(&mut self.wildcard, i);
            match arn_name_prefix(r) {
                Some(prefix) => {
                    if !self.prefix_lens.contains(&prefix.len()) {
                        self.prefix_lens.push(prefix.len());
                    }
                    push(self.by_prefix.entry(prefix.to_string()).or_default(), i);
                }
                None => push(&mut self.general, i),
            }
        }
    }

    /// The policies that may match a resource with these names: a superset of those that do.
    fn candidates<'a>(&'a self, names: &'a [String]) -> impl Iterator<Item = usize> + 'a {
        let indexable = names.iter().all(|n| arn_name(n).is_some());
        let exact = names.iter().filter_map(|n| self.exact.get(n)).flatten();
        let prefixed = names
            .iter()
            .filter(move |_| indexable)
            .filter_map(|n| arn_name(n))
            .flat_map(move |name| {
                self.prefix_lens
                    .iter()
                    .filter_map(move |&len| name.get(..len).and_then(|p| self.by_prefix.get(p)))
            })
            .flatten();
        let rest = if indexable { &self.general } else { &self.wildcard };
        exact.chain(prefixed).chain(rest.iter()).copied()
    }
}

/// The resource name of an ARN with exactly four `:` (`acs:kms:<region>:<account>:<name>`).
fn arn_name(text: &str) -> Option<&str> {
    let mut parts = text.splitn(5, ':');
    let name = parts.nth(4)?;
    (!name.contains(':')).then_some(name)
}

/// For a pattern with exactly four `:`, the literal start of its resource name (up to its first
/// `*`). A text with exactly four `:` can match it only if its resource name starts with that
/// prefix: the pattern's four literal colons must meet the text's four, so no `*` spans one.
fn arn_name_prefix(pattern: &str) -> Option<&str> {
    let name = arn_name(pattern)?;
    Some(name.split('*').next().unwrap_or_default())
}

impl CompiledPolicies {
    /// Indexes `policies` for the actions in `actions` (the action table). A request for an action
    /// outside it is decided by [`evaluate`].
    pub fn new(policies: Vec<Policy>, actions: &[&str]) -> CompiledPolicies {
        let mut by_action: HashMap<String, ActionIndex> = HashMap::new();
        for &action in actions {
            let index = by_action.entry(action.to_string()).or_default();
            for (i, p) in policies.iter().enumerate().filter(|(_, p)| p.allows_action(action)) {
                index.add(i, p);
            }
        }
        let compiled = policies.iter().map(CompiledPolicy::new).collect();
        CompiledPolicies { policies, compiled, by_action }
    }

    /// The policies compiled.
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// Decides `req` exactly as [`evaluate`] would on the same policies.
    pub fn evaluate(&self, req: &AccessRequest<'_>) -> Decision {
        if self.policies.is_empty() {
            return Decision::Deny(DenyReason::NoPolicy);
        }
        let (Some(index), Some(first)) = (self.by_action.get(req.action), req.resources.first())
        else {
            return evaluate(&self.policies, req);
        };
        if index.is_empty() {
            return Decision::Deny(DenyReason::Action);
        }
        // Every policy allowing the action fails at least on resources; those that are not
        // candidates for the first resource cannot match it.
        let mut reason = DenyReason::Resource;
        for i in index.candidates(first) {
            // Indexed under the action: only resources and network are left to check.
            match self.compiled[i].decide(req) {
                Decision::Allow => return Decision::Allow,
                Decision::Deny(r) => reason = reason.max(r),
            }
        }
        Decision::Deny(reason)
    }
}

/// A policy's resource patterns and CIDR blocks, parsed for the request path.
#[derive(Debug, Clone)]
struct CompiledPolicy {
    resources: Vec<Glob>,
    blocks: Vec<(IpAddr, u8)>,
    any_source: bool,
}

impl CompiledPolicy {
    fn new(p: &Policy) -> CompiledPolicy {
        CompiledPolicy {
            resources: p.resources.iter().map(|r| Glob::new(r)).collect(),
            blocks: p.source_cidrs.iter().filter_map(|c| parse_cidr(c)).collect(),
            any_source: p.source_cidrs.is_empty(),
        }
    }

    /// [`Policy::decide`] for a policy known to allow the action.
    fn decide(&self, req: &AccessRequest<'_>) -> Decision {
        let resources = req
            .resources
            .iter()
            .all(|names| names.iter().any(|name| self.resources.iter().any(|g| g.matches(name))));
        if !resources {
            Decision::Deny(DenyReason::Resource)
        } else if !(self.any_source
            || req.source.is_some_and(|ip| self.blocks.iter().any(|&b| in_block(ip, b))))
        {
            Decision::Deny(DenyReason::Network)
        } else {
            Decision::Allow
        }
    }
}

/// A `*` pattern split into its literal runs: the text must start with the first, end with the
/// last, and contain the others in order between them (leftmost matches suffice for `*`, so this
/// decides exactly as [`glob`] does, with substring searches instead of backtracking).
#[derive(Debug, Clone)]
pub struct Glob {
    parts: Vec<String>,
}

impl Glob {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Glob {
        Glob { parts: pattern.split('*').map(str::to_string).collect() }
    }

    /// Whether the pattern matches all of `text`.
    pub fn matches(&self, text: &str) -> bool {
        let (first, rest) = match self.parts.split_first() {
            Some(split) => split,
            None => return text.is_empty(),
        };
        let Some(mut tail) = text.strip_prefix(first.as_str()) else { return false };
        let Some((last, middle)) = rest.split_last() else { return tail.is_empty() };
        for part in middle {
            match tail.find(part.as_str()) {
                Some(at) => tail = &tail[at + part.len()..],
                None => return false,
            }
        }
        tail.len() >= last.len() && tail.ends_with(last.as_str())
    }
}

/// A policy action pattern without its optional `kms:` prefix.
fn action_pattern(p: &str) -> &str {
    p.strip_prefix("kms:").unwrap_or(p)
}

/// Whether `pattern` (where `*` matches any run of characters, the empty one included) matches
/// all of `text`. Linear in practice: backtracks only to the last `*`.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// A CIDR block (`addr/len`) or a single address, as (network address, prefix length).
pub fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a.parse::<IpAddr>().ok()?, Some(l.parse::<u8>().ok()?)),
        None => (s.parse::<IpAddr>().ok()?, None),
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    (len <= max).then_some((addr, len))
}

/// Whether `ip` is in `block` (an IPv4-mapped IPv6 address counts as its IPv4 address).
pub fn in_block(ip: IpAddr, (net, len): (IpAddr, u8)) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
#[path = "policy_test.rs"]
mod tests;
