//! The sequential model of the KMS operations the chaos tests check for linearizability with
//! [`crate::linearizability`]: keys (existence, description, Enabled/Disabled) and aliases (the key
//! each is bound to), with the semantics of the Alibaba KMS API as Yaoshi applies them.
//!
//! A harness records one [`KmsOperation`] per request: the [`KmsInput`] it sent, and the
//! [`KmsOutput`] read from the answer — from a success, or from an error code through
//! [`error_meaning`] (the only place that knows the codes). Inputs name keys by key id (not alias
//! or ARN). Aliases are read per alias: [`KmsInput::GetAlias`] from a ListAliases answer (every
//! page), [`KmsInput::IsAliasOf`] from a ListAliasesByKeyId answer, which says nothing about
//! aliases bound elsewhere.
//!
//! Parts ([`Model::partition`]): one per key id (its creation and the operations naming it) and
//! one per alias name (the operations naming it, plus the creations of the keys they name, since
//! binding needs the key to exist). A CreateKey without an answer has no known id and is in no
//! part: nothing can observe its key. The parts share only key creations, and the split is exact
//! when no operation naming a key is called before that key's CreateKey returned — the case of
//! clients that learn ids from CreateKey answers. Otherwise each part places the creation on its
//! own, and a history can pass that a whole-history check would reject (never the reverse).

use std::collections::{BTreeMap, BTreeSet};

use yaoshi_model::{ErrorCode, KeyState};

use crate::linearizability::{Model, Operation};

/// The key states the modelled operations move between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyStatus {
    /// `Enabled` (a new key).
    Enabled,
    /// `Disabled`.
    Disabled,
}

impl KeyStatus {
    /// The status named by a `KeyState` of an answer; `None` for the states the model does not
    /// reach (PendingDeletion, PendingImport) and for unknown names.
    pub fn from_api(key_state: &str) -> Option<KeyStatus> {
        match KeyState::parse(key_state)? {
            KeyState::Enabled => Some(KeyStatus::Enabled),
            KeyState::Disabled => Some(KeyStatus::Disabled),
            KeyState::PendingDeletion | KeyState::PendingImport => None,
        }
    }
}

/// What DescribeKey shows of a key, and what the model keeps of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyView {
    /// `Description`.
    pub description: String,
    /// `KeyState`.
    pub status: KeyStatus,
}

/// A request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KmsInput {
    /// CreateKey with this `Description`.
    CreateKey {
        /// The description.
        description: String,
    },
    /// UpdateKeyDescription.
    UpdateKeyDescription {
        /// The key id.
        key: String,
        /// The new description.
        description: String,
    },
    /// EnableKey.
    EnableKey {
        /// The key id.
        key: String,
    },
    /// DisableKey.
    DisableKey {
        /// The key id.
        key: String,
    },
    /// DescribeKey.
    DescribeKey {
        /// The key id.
        key: String,
    },
    /// CreateAlias.
    CreateAlias {
        /// The alias name (`alias/...`).
        alias: String,
        /// The key id.
        key: String,
    },
    /// UpdateAlias.
    UpdateAlias {
        /// The alias name.
        alias: String,
        /// The new key id.
        key: String,
    },
    /// The key an alias is bound to, as one ListAliases answer shows it.
    GetAlias {
        /// The alias name.
        alias: String,
    },
    /// Whether an alias is bound to a key, as one ListAliasesByKeyId answer shows it.
    IsAliasOf {
        /// The alias name.
        alias: String,
        /// The key id.
        key: String,
    },
}

impl KmsInput {
    /// The key id the operation names, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            KmsInput::UpdateKeyDescription { key, .. }
            | KmsInput::EnableKey { key }
            | KmsInput::DisableKey { key }
            | KmsInput::DescribeKey { key }
            | KmsInput::CreateAlias { key, .. }
            | KmsInput::UpdateAlias { key, .. }
            | KmsInput::IsAliasOf { key, .. } => Some(key),
            KmsInput::CreateKey { .. } | KmsInput::GetAlias { .. } => None,
        }
    }

    /// The alias name the operation names, if any.
    pub fn alias(&self) -> Option<&str> {
        match self {
            KmsInput::CreateAlias { alias, .. }
            | KmsInput::UpdateAlias { alias, .. }
            | KmsInput::GetAlias { alias }
            | KmsInput::IsAliasOf { alias, .. } => Some(alias),
            _ => None,
        }
    }
}

/// The answer to UpdateKeyDescription, EnableKey and DisableKey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOutcome {
    /// Done.
    Ok,
    /// `Forbidden.KeyNotFound`.
    KeyNotFound,
}

/// The answer to CreateAlias and UpdateAlias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasOutcome {
    /// Done.
    Ok,
    /// CreateAlias of a bound alias (`AliasAlreadyExists`).
    AlreadyExists,
    /// UpdateAlias of an unbound alias (`Forbidden.AliasNotFound`).
    NotFound,
    /// The key does not exist (`Forbidden.KeyNotFound`). CreateAlias checks the key before the
    /// alias, UpdateAlias after it.
    KeyNotFound,
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KmsOutput {
    /// CreateKey: the new key's id.
    Created(String),
    /// UpdateKeyDescription, EnableKey, DisableKey.
    KeyWrite(KeyOutcome),
    /// DescribeKey: the key, or `None` for `Forbidden.KeyNotFound`.
    Described(Option<KeyView>),
    /// CreateAlias, UpdateAlias.
    AliasWrite(AliasOutcome),
    /// GetAlias: the bound key id, `None` when the alias is not listed.
    AliasTarget(Option<String>),
    /// IsAliasOf.
    AliasOf(bool),
}

/// The state: the keys and aliases that exist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct KmsState {
    /// Key id → key.
    pub keys: BTreeMap<String, KeyView>,
    /// Alias name → key id.
    pub aliases: BTreeMap<String, String>,
}

/// One recorded KMS request.
pub type KmsOperation = Operation<KmsInput, KmsOutput>;

/// The KMS model.
#[derive(Debug, Clone, Copy, Default)]
pub struct KmsModel;

/// The answer and state after `input` from `state`; `None` for CreateKey, whose answer (the new
/// id) the state does not decide.
fn apply(state: &KmsState, input: &KmsInput) -> Option<(KmsState, KmsOutput)> {
    let mut next = state.clone();
    let key_write = |next: &mut KmsState, key: &str, change: &dyn Fn(&mut KeyView)| {
        KmsOutput::KeyWrite(match next.keys.get_mut(key) {
            Some(view) => {
                change(view);
                KeyOutcome::Ok
            }
            None => KeyOutcome::KeyNotFound,
        })
    };
    let output = match input {
        KmsInput::CreateKey { .. } => return None,
        KmsInput::UpdateKeyDescription { key, description } => {
            key_write(&mut next, key, &|v| v.description.clone_from(description))
        }
        KmsInput::EnableKey { key } => {
            key_write(&mut next, key, &|v| v.status = KeyStatus::Enabled)
        }
        KmsInput::DisableKey { key } => {
            key_write(&mut next, key, &|v| v.status = KeyStatus::Disabled)
        }
        KmsInput::DescribeKey { key } => KmsOutput::Described(state.keys.get(key).cloned()),
        KmsInput::CreateAlias { alias, key } => {
            KmsOutput::AliasWrite(if !state.keys.contains_key(key) {
                AliasOutcome::KeyNotFound
            } else if state.aliases.contains_key(alias) {
                AliasOutcome::AlreadyExists
            } else {
                next.aliases.insert(alias.clone(), key.clone());
                AliasOutcome::Ok
            })
        }
        KmsInput::UpdateAlias { alias, key } => {
            KmsOutput::AliasWrite(if !state.aliases.contains_key(alias) {
                AliasOutcome::NotFound
            } else if !state.keys.contains_key(key) {
                AliasOutcome::KeyNotFound
            } else {
                next.aliases.insert(alias.clone(), key.clone());
                AliasOutcome::Ok
            })
        }
        KmsInput::GetAlias { alias } => KmsOutput::AliasTarget(state.aliases.get(alias).cloned()),
        KmsInput::IsAliasOf { alias, key } => {
            KmsOutput::AliasOf(state.aliases.get(alias) == Some(key))
        }
    };
    Some((next, output))
}

impl Model for KmsModel {
    type State = KmsState;
    type Input = KmsInput;
    type Output = KmsOutput;

    fn init(&self) -> KmsState {
        KmsState::default()
    }

    fn step(&self, state: &KmsState, input: &KmsInput, output: &KmsOutput) -> Option<KmsState> {
        if let (KmsInput::CreateKey { description }, KmsOutput::Created(id)) = (input, output) {
            if state.keys.contains_key(id) {
                return None;
            }
            let mut next = state.clone();
            let view = KeyView { description: description.clone(), status: KeyStatus::Enabled };
            next.keys.insert(id.clone(), view);
            return Some(next);
        }
        let (next, expected) = apply(state, input)?;
        (expected == *output).then_some(next)
    }

    fn step_unknown(&self, state: &KmsState, input: &KmsInput) -> Vec<KmsState> {
        // A CreateKey without an answer made a key nobody knows the id of: nothing to add.
        apply(state, input).map(|(next, _)| next).into_iter().collect()
    }

    fn partition(&self, history: &[KmsOperation]) -> Vec<Vec<usize>> {
        let mut keys: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut aliases: BTreeMap<&str, (Vec<usize>, BTreeSet<&str>)> = BTreeMap::new();
        let mut odd = Vec::new();
        for (i, op) in history.iter().enumerate() {
            match (&op.input, &op.output) {
                (KmsInput::CreateKey { .. }, Some(KmsOutput::Created(id))) => {
                    keys.entry(id).or_default().push(i);
                }
                (KmsInput::CreateKey { .. }, None) => {}
                // Any other answer to CreateKey is impossible: checked alone, it is illegal.
                (KmsInput::CreateKey { .. }, Some(_)) => odd.push(vec![i]),
                (input, _) => match input.alias() {
                    Some(alias) => {
                        let (ops, named) = aliases.entry(alias).or_default();
                        ops.push(i);
                        // IsAliasOf does not depend on whether its key exists.
                        if let KmsInput::CreateAlias { key, .. }
                        | KmsInput::UpdateAlias { key, .. } = input
                        {
                            named.insert(key);
                        }
                    }
                    None => keys.entry(input.key().unwrap_or_default()).or_default().push(i),
                },
            }
        }
        let mut parts = Vec::new();
        for (ops, named) in aliases.into_values() {
            let mut part = ops;
            for key in named {
                part.extend(
                    keys.get(key)
                        .into_iter()
                        .flatten()
                        .copied()
                        .filter(|&i| matches!(history[i].input, KmsInput::CreateKey { .. })),
                );
            }
            part.sort_unstable();
            parts.push(part);
        }
        parts.splice(0..0, keys.into_values());
        parts.extend(odd);
        parts
    }
}

/// What an error answer means for the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorMeaning {
    /// An answer of the model: record the operation with it.
    Output(KmsOutput),
    /// The request may or may not have been applied (a 5xx such as `ServiceUnavailableTemporary`
    /// or `InternalFailure`, `SignatureNonceUsed`, or a code not in the table): record it with no
    /// answer.
    Indeterminate,
    /// The request was refused without effect for a reason outside the model (`Throttling`, a
    /// parameter error, ...): leave it out of the history. A run that sends only valid requests
    /// should not see these; they are worth counting.
    NoEffect(ErrorCode),
}

/// The meaning of error `code` (the `Code` of an error answer) to `input`.
pub fn error_meaning(input: &KmsInput, code: &str) -> ErrorMeaning {
    let Some(code) = ErrorCode::ALL.iter().copied().find(|c| c.as_str() == code) else {
        return ErrorMeaning::Indeterminate;
    };
    // A used nonce means a request with the same signature was received before: a resent
    // request whose first copy may have been applied.
    if code.http_status() >= 500 || code == ErrorCode::SignatureNonceUsed {
        return ErrorMeaning::Indeterminate;
    }
    let output = match (code, input) {
        (
            ErrorCode::KeyNotFound,
            KmsInput::UpdateKeyDescription { .. }
            | KmsInput::EnableKey { .. }
            | KmsInput::DisableKey { .. },
        ) => KmsOutput::KeyWrite(KeyOutcome::KeyNotFound),
        (ErrorCode::KeyNotFound, KmsInput::DescribeKey { .. }) => KmsOutput::Described(None),
        (ErrorCode::KeyNotFound, KmsInput::CreateAlias { .. } | KmsInput::UpdateAlias { .. }) => {
            KmsOutput::AliasWrite(AliasOutcome::KeyNotFound)
        }
        // ListAliasesByKeyId of a missing key: a key that does not exist has no alias.
        (ErrorCode::KeyNotFound, KmsInput::IsAliasOf { .. }) => KmsOutput::AliasOf(false),
        (ErrorCode::AliasNotFound, KmsInput::UpdateAlias { .. }) => {
            KmsOutput::AliasWrite(AliasOutcome::NotFound)
        }
        (ErrorCode::AliasAlreadyExists, KmsInput::CreateAlias { .. }) => {
            KmsOutput::AliasWrite(AliasOutcome::AlreadyExists)
        }
        _ => return ErrorMeaning::NoEffect(code),
    };
    ErrorMeaning::Output(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linearizability::{CheckResult, brute_force, check};
    use crate::rng::Rng;
    use std::time::{Duration, Instant};

    const BUDGET: Duration = Duration::from_secs(10);

    fn op(client: u64, input: KmsInput, output: KmsOutput, call: u64, ret: u64) -> KmsOperation {
        KmsOperation { client, input, call, output: Some(output), ret }
    }

    fn unanswered(client: u64, input: KmsInput, call: u64) -> KmsOperation {
        KmsOperation { client, input, call, output: None, ret: 0 }
    }

    fn create(id: &str, description: &str, call: u64, ret: u64) -> KmsOperation {
        let input = KmsInput::CreateKey { description: description.into() };
        op(0, input, KmsOutput::Created(id.into()), call, ret)
    }

    fn describe(key: &str, seen: Option<(&str, KeyStatus)>, call: u64, ret: u64) -> KmsOperation {
        let seen = seen.map(|(d, status)| KeyView { description: d.into(), status });
        op(1, KmsInput::DescribeKey { key: key.into() }, KmsOutput::Described(seen), call, ret)
    }

    fn alias_write(
        update: bool,
        alias: &str,
        key: &str,
        outcome: AliasOutcome,
        call: u64,
        ret: u64,
    ) -> KmsOperation {
        let (alias, key) = (alias.into(), key.into());
        let input = match update {
            false => KmsInput::CreateAlias { alias, key },
            true => KmsInput::UpdateAlias { alias, key },
        };
        op(2, input, KmsOutput::AliasWrite(outcome), call, ret)
    }

    fn get_alias(alias: &str, key: Option<&str>, call: u64, ret: u64) -> KmsOperation {
        let input = KmsInput::GetAlias { alias: alias.into() };
        op(3, input, KmsOutput::AliasTarget(key.map(Into::into)), call, ret)
    }

    fn is_alias_of(alias: &str, key: &str, bound: bool, call: u64, ret: u64) -> KmsOperation {
        let input = KmsInput::IsAliasOf { alias: alias.into(), key: key.into() };
        op(4, input, KmsOutput::AliasOf(bound), call, ret)
    }

    fn verdict(history: &[KmsOperation]) -> CheckResult {
        check(&KmsModel, history, BUDGET)
    }

    fn assert_ok(history: &[KmsOperation]) {
        let result = verdict(history);
        assert!(result.is_ok(), "{result:?} for {history:#?}");
    }

    fn assert_illegal(history: &[KmsOperation]) {
        let result = verdict(history);
        assert!(matches!(result, CheckResult::Illegal { .. }), "{result:?} for {history:#?}");
    }

    use AliasOutcome::{AlreadyExists, KeyNotFound, NotFound, Ok as Done};
    use KeyStatus::{Disabled, Enabled};

    #[test]
    fn keys_are_created_enabled_and_change_as_written() {
        let disable = KmsInput::DisableKey { key: "k".into() };
        let update = KmsInput::UpdateKeyDescription { key: "k".into(), description: "two".into() };
        let done = KmsOutput::KeyWrite(KeyOutcome::Ok);
        assert_ok(&[
            describe("k", None, 0, 5),
            create("k", "one", 10, 20),
            describe("k", Some(("one", Enabled)), 30, 40),
            op(1, disable.clone(), done.clone(), 50, 60),
            op(1, update.clone(), done.clone(), 70, 80),
            describe("k", Some(("two", Disabled)), 90, 100),
        ]);
        // A read concurrent with the disable may see either state.
        for status in [Enabled, Disabled] {
            assert_ok(&[
                create("k", "one", 0, 10),
                op(1, disable.clone(), done.clone(), 20, 40),
                describe("k", Some(("one", status)), 30, 50),
            ]);
        }
        // A new key is Enabled, with its description.
        assert_illegal(&[
            create("k", "one", 0, 10),
            describe("k", Some(("one", Disabled)), 20, 30),
        ]);
        assert_illegal(&[create("k", "one", 0, 10), describe("k", Some(("", Enabled)), 20, 30)]);
        // Writes to a missing key fail; to an existing one they succeed.
        let missing = KmsOutput::KeyWrite(KeyOutcome::KeyNotFound);
        assert_ok(&[op(1, disable.clone(), missing.clone(), 0, 10), create("k", "one", 20, 30)]);
        assert_illegal(&[create("k", "one", 0, 10), op(1, disable.clone(), missing, 20, 30)]);
        assert_illegal(&[op(1, disable, done, 0, 10), create("k", "one", 20, 30)]);
        // One id is created once.
        assert_illegal(&[create("k", "one", 0, 10), create("k", "one", 20, 30)]);
    }

    #[test]
    fn stale_reads_and_lost_writes_of_a_key_are_illegal() {
        let update =
            |d: &str| KmsInput::UpdateKeyDescription { key: "k".into(), description: d.into() };
        let done = KmsOutput::KeyWrite(KeyOutcome::Ok);
        // A key that was created is gone.
        assert_illegal(&[create("k", "one", 0, 10), describe("k", None, 20, 30)]);
        // A read after a completed write sees the value before it.
        assert_illegal(&[
            create("k", "one", 0, 10),
            op(1, update("two"), done.clone(), 20, 30),
            describe("k", Some(("one", Enabled)), 40, 50),
        ]);
        // An acknowledged write is lost: a later read sees the value it overwrote.
        assert_illegal(&[
            create("k", "one", 0, 10),
            op(1, update("two"), done.clone(), 20, 30),
            op(1, update("three"), done.clone(), 40, 50),
            describe("k", Some(("three", Enabled)), 60, 70),
            describe("k", Some(("two", Enabled)), 80, 90),
        ]);
        // An unanswered write may land any time after its call, once.
        let history = [
            create("k", "one", 0, 10),
            unanswered(2, update("two"), 20),
            describe("k", Some(("one", Enabled)), 30, 40),
            describe("k", Some(("two", Enabled)), 50, 60),
        ];
        assert_ok(&history);
        assert_ok(&history[..3]);
        let mut undone = history.to_vec();
        undone.push(describe("k", Some(("one", Enabled)), 70, 80));
        assert_illegal(&undone);
    }

    #[test]
    fn aliases_bind_once_and_are_seen_consistently() {
        let keys = [create("k1", "", 0, 10), create("k2", "", 0, 10)];
        let with = |ops: &[KmsOperation]| [&keys[..], ops].concat();
        assert_ok(&with(&[
            get_alias("alias/a", None, 20, 30),
            alias_write(true, "alias/a", "k1", NotFound, 20, 30),
            alias_write(false, "alias/a", "k1", Done, 40, 50),
            get_alias("alias/a", Some("k1"), 60, 70),
            is_alias_of("alias/a", "k2", false, 60, 70),
            alias_write(false, "alias/a", "k2", AlreadyExists, 80, 90),
            alias_write(true, "alias/a", "k2", Done, 100, 110),
            get_alias("alias/a", Some("k2"), 120, 130),
            is_alias_of("alias/a", "k2", true, 120, 130),
        ]));
        // Two concurrent CreateAlias: exactly one wins, and readers agree on which.
        for (winner, loser) in [("k1", "k2"), ("k2", "k1")] {
            assert_ok(&with(&[
                alias_write(
                    false,
                    "alias/a",
                    "k1",
                    if winner == "k1" { Done } else { AlreadyExists },
                    20,
                    40,
                ),
                alias_write(
                    false,
                    "alias/a",
                    "k2",
                    if winner == "k2" { Done } else { AlreadyExists },
                    20,
                    40,
                ),
                get_alias("alias/a", Some(winner), 50, 60),
                is_alias_of("alias/a", loser, false, 70, 80),
            ]));
        }
        assert_illegal(&with(&[
            alias_write(false, "alias/a", "k1", Done, 20, 40),
            alias_write(false, "alias/a", "k2", Done, 20, 40),
        ]));
        // The alias observed bound to two keys without an UpdateAlias in between.
        let bound_twice = with(&[
            alias_write(false, "alias/a", "k1", Done, 20, 40),
            alias_write(false, "alias/a", "k2", AlreadyExists, 20, 40),
            get_alias("alias/a", Some("k2"), 50, 60),
        ]);
        assert_illegal(&bound_twice);
        assert_illegal(&with(&[
            alias_write(false, "alias/a", "k1", Done, 20, 40),
            alias_write(false, "alias/a", "k2", AlreadyExists, 20, 40),
            is_alias_of("alias/a", "k1", true, 50, 60),
            is_alias_of("alias/a", "k2", true, 70, 80),
        ]));
        // Rebinding undone: a read after UpdateAlias sees the old key.
        assert_illegal(&with(&[
            alias_write(false, "alias/a", "k1", Done, 20, 30),
            alias_write(true, "alias/a", "k2", Done, 40, 50),
            get_alias("alias/a", Some("k2"), 60, 70),
            get_alias("alias/a", Some("k1"), 80, 90),
        ]));
        // A bound alias reported missing.
        assert_illegal(&with(&[
            alias_write(false, "alias/a", "k1", Done, 20, 30),
            alias_write(true, "alias/a", "k2", NotFound, 40, 50),
        ]));
    }

    #[test]
    fn binding_an_alias_needs_the_key_to_exist() {
        // The key is created concurrently: either answer.
        for outcome in [Done, KeyNotFound] {
            assert_ok(&[
                create("k1", "", 0, 20),
                alias_write(false, "alias/a", "k1", outcome, 10, 30),
            ]);
        }
        // Created before: the alias cannot fail for a missing key, nor bind before the key exists.
        assert_illegal(&[
            create("k1", "", 0, 10),
            alias_write(false, "alias/a", "k1", KeyNotFound, 20, 30),
        ]);
        assert_illegal(&[
            alias_write(false, "alias/a", "k1", Done, 0, 10),
            create("k1", "", 20, 30),
        ]);
        // A key id never created.
        assert_ok(&[alias_write(false, "alias/a", "nope", KeyNotFound, 0, 10)]);
        assert_illegal(&[alias_write(false, "alias/a", "nope", Done, 0, 10)]);
        // UpdateAlias checks the alias first.
        assert_ok(&[alias_write(true, "alias/a", "nope", NotFound, 0, 10)]);
        assert_illegal(&[alias_write(true, "alias/a", "nope", KeyNotFound, 0, 10)]);
    }

    #[test]
    fn unanswered_operations_may_have_taken_effect_or_not() {
        let keys = [create("k1", "", 0, 10), create("k2", "", 0, 10)];
        let bind = KmsInput::CreateAlias { alias: "alias/a".into(), key: "k2".into() };
        let history = [
            &keys[..],
            &[
                unanswered(1, KmsInput::CreateKey { description: "lost".into() }, 0),
                unanswered(2, bind, 20),
                get_alias("alias/a", None, 30, 40),
                alias_write(false, "alias/a", "k1", AlreadyExists, 50, 60),
                get_alias("alias/a", Some("k2"), 70, 80),
            ],
        ]
        .concat();
        assert_ok(&history);
        // Without the unanswered CreateAlias nothing could have bound the alias.
        let mut without = history.clone();
        without.remove(3);
        assert_illegal(&without);
    }

    #[test]
    fn answers_of_the_wrong_kind_are_illegal() {
        let input = KmsInput::CreateKey { description: String::new() };
        assert_illegal(&[op(0, input, KmsOutput::AliasOf(true), 0, 10)]);
        let input = KmsInput::DescribeKey { key: "k".into() };
        assert_illegal(&[op(0, input, KmsOutput::KeyWrite(KeyOutcome::KeyNotFound), 0, 10)]);
    }

    #[test]
    fn parts_are_per_key_and_per_alias_with_the_keys_an_alias_needs() {
        let history = [
            create("k1", "", 0, 10),                                              // 0
            create("k2", "", 0, 10),                                              // 1
            unanswered(1, KmsInput::CreateKey { description: String::new() }, 0), // 2
            describe("k1", None, 20, 30),                                         // 3
            alias_write(false, "alias/a", "k2", Done, 20, 30),                    // 4
            is_alias_of("alias/a", "k1", false, 40, 50),                          // 5
            get_alias("alias/b", None, 40, 50),                                   // 6
        ];
        assert_eq!(KmsModel.partition(&history), vec![vec![0, 3], vec![1], vec![1, 4, 5], vec![6]]);
        assert_eq!(
            verdict(&history),
            CheckResult::Illegal { partition: 0, longest_prefix: vec![0] }
        );
    }

    #[test]
    fn error_codes_map_to_answers() {
        let key = || "k".to_string();
        let alias = || "alias/a".to_string();
        let describe = KmsInput::DescribeKey { key: key() };
        let create_alias = KmsInput::CreateAlias { alias: alias(), key: key() };
        let update_alias = KmsInput::UpdateAlias { alias: alias(), key: key() };
        let meaning = error_meaning;
        use ErrorMeaning::{Indeterminate, NoEffect, Output};
        assert_eq!(meaning(&describe, "Forbidden.KeyNotFound"), Output(KmsOutput::Described(None)));
        assert_eq!(
            meaning(&KmsInput::EnableKey { key: key() }, "Forbidden.KeyNotFound"),
            Output(KmsOutput::KeyWrite(KeyOutcome::KeyNotFound))
        );
        assert_eq!(
            meaning(&create_alias, "AliasAlreadyExists"),
            Output(KmsOutput::AliasWrite(AlreadyExists))
        );
        assert_eq!(
            meaning(&create_alias, "Forbidden.KeyNotFound"),
            Output(KmsOutput::AliasWrite(KeyNotFound))
        );
        assert_eq!(
            meaning(&update_alias, "Forbidden.AliasNotFound"),
            Output(KmsOutput::AliasWrite(NotFound))
        );
        assert_eq!(
            meaning(&KmsInput::IsAliasOf { alias: alias(), key: key() }, "Forbidden.KeyNotFound"),
            Output(KmsOutput::AliasOf(false))
        );
        assert_eq!(meaning(&update_alias, "ServiceUnavailableTemporary"), Indeterminate);
        assert_eq!(meaning(&update_alias, "InternalFailure"), Indeterminate);
        assert_eq!(meaning(&update_alias, "Something.New"), Indeterminate);
        assert_eq!(meaning(&create_alias, "SignatureNonceUsed"), Indeterminate);
        assert_eq!(meaning(&describe, "Throttling"), NoEffect(ErrorCode::Throttling));
        assert_eq!(
            meaning(&describe, "AliasAlreadyExists"),
            NoEffect(ErrorCode::AliasAlreadyExists)
        );
        assert_eq!(KeyStatus::from_api("Disabled"), Some(Disabled));
        assert_eq!(KeyStatus::from_api("PendingDeletion"), None);
    }

    /// When and by whom the operations of a random history run, in the order they take effect:
    /// (client, call, return).
    #[derive(Clone, Copy)]
    enum Timing {
        /// One after the other, never overlapping.
        Sequential,
        /// Operation i takes effect at 100·i and overlaps at most its neighbours (±60).
        Neighbours,
        /// `n` clients each running one operation at a time, of random length; each operation
        /// takes effect at a random point within it.
        Clients(usize),
    }

    fn timings(rng: &mut Rng, n: usize, timing: Timing) -> Vec<(u64, u64, u64)> {
        match timing {
            Timing::Sequential => (0..n as u64).map(|i| (i % 3, 100 * i, 100 * i + 50)).collect(),
            Timing::Neighbours => (0..n as u64)
                .map(|i| {
                    (i % 3, 100 * i + 100 - rng.range(0, 60), 100 * i + 100 + rng.range(0, 60))
                })
                .collect(),
            Timing::Clients(clients) => {
                let mut clock = vec![0; clients];
                let mut planned: Vec<(u64, u64, u64, u64)> = (0..n)
                    .map(|_| {
                        let c = rng.below(clients);
                        let call = clock[c] + rng.range(0, 20);
                        let ret = call + rng.range(1, 100);
                        clock[c] = ret;
                        (rng.range(call, ret), c as u64, call, ret)
                    })
                    .collect();
                planned.sort_unstable();
                planned.into_iter().map(|(_, c, call, ret)| (c, call, ret)).collect()
            }
        }
    }

    const ALIASES: [&str; 3] = ["alias/a", "alias/b", "alias/c"];

    /// A history answered by the model itself (so linearizable), with the given timing; keys
    /// `key-0..`, descriptions unique (`d<i>`). With `unknown`, that share of the writes lose
    /// their answer, half of them without taking effect.
    fn random_history(rng: &mut Rng, n: usize, timing: Timing, unknown: f64) -> Vec<KmsOperation> {
        let mut state = KmsState::default();
        let mut created = 0;
        let mut history = Vec::with_capacity(n);
        for (i, (client, call, ret)) in timings(rng, n, timing).into_iter().enumerate() {
            // Known keys, and the next one (not created yet).
            let key = format!("key-{}", rng.below(created + 1));
            let alias = ALIASES[rng.below(ALIASES.len())].to_string();
            let description = format!("d{i}");
            let input = match rng.below(10) {
                0 => KmsInput::CreateKey { description },
                1 => KmsInput::UpdateKeyDescription { key, description },
                2 => KmsInput::EnableKey { key },
                3 => KmsInput::DisableKey { key },
                4 => KmsInput::DescribeKey { key },
                5 => KmsInput::CreateAlias { alias, key },
                6 => KmsInput::UpdateAlias { alias, key },
                7 | 8 => KmsInput::GetAlias { alias },
                _ => KmsInput::IsAliasOf { alias, key },
            };
            let (next, output) = match &input {
                KmsInput::CreateKey { .. } => {
                    let id = format!("key-{created}");
                    created += 1;
                    let output = KmsOutput::Created(id);
                    (KmsModel.step(&state, &input, &output).expect("fresh id"), output)
                }
                _ => apply(&state, &input).expect("not CreateKey"),
            };
            let is_write = !matches!(
                input,
                KmsInput::CreateKey { .. }
                    | KmsInput::DescribeKey { .. }
                    | KmsInput::GetAlias { .. }
                    | KmsInput::IsAliasOf { .. }
            );
            if is_write && rng.chance(unknown) {
                if rng.chance(0.5) {
                    state = next;
                }
                history.push(KmsOperation { client, input, call, output: None, ret: 0 });
            } else {
                state = next;
                history.push(KmsOperation { client, input, call, output: Some(output), ret });
            }
        }
        history
    }

    /// The reads of `history` with an answer.
    fn reads(history: &[KmsOperation]) -> Vec<usize> {
        (0..history.len())
            .filter(|&i| {
                matches!(
                    history[i].output,
                    Some(
                        KmsOutput::Described(_) | KmsOutput::AliasTarget(_) | KmsOutput::AliasOf(_)
                    )
                )
            })
            .collect()
    }

    #[test]
    fn random_model_histories_pass_with_any_timing() {
        for seed in 0..60 {
            let mut rng = Rng::new(seed);
            let timing =
                [Timing::Sequential, Timing::Neighbours, Timing::Clients(6)][seed as usize % 3];
            let unknown = if seed % 2 == 0 { 0.0 } else { 0.1 };
            let history = random_history(&mut rng, 150, timing, unknown);
            let result = verdict(&history);
            assert!(result.is_ok(), "seed {seed}: {result:?}");
        }
    }

    #[test]
    fn random_histories_with_a_read_of_a_value_never_written_fail() {
        for seed in 0..60 {
            let mut rng = Rng::new(seed);
            let mut history = random_history(&mut rng, 150, Timing::Clients(6), 0.1);
            let candidates: Vec<usize> = reads(&history)
                .into_iter()
                .filter(|&i| !matches!(history[i].output, Some(KmsOutput::AliasOf(_))))
                .collect();
            let i = candidates[rng.below(candidates.len())];
            let corrupt = match &history[i].output {
                Some(KmsOutput::Described(_)) => KmsOutput::Described(Some(KeyView {
                    description: "never written".into(),
                    status: Enabled,
                })),
                Some(KmsOutput::AliasTarget(_)) => KmsOutput::AliasTarget(Some("key-never".into())),
                other => unreachable!("{other:?}"),
            };
            history[i].output = Some(corrupt);
            let result = verdict(&history);
            assert!(
                matches!(result, CheckResult::Illegal { .. }),
                "seed {seed}, op {i}: {result:?}"
            );
        }
    }

    #[test]
    fn random_sequential_histories_with_any_read_changed_fail() {
        for seed in 0..60 {
            let mut rng = Rng::new(seed);
            let mut history = random_history(&mut rng, 100, Timing::Sequential, 0.0);
            let all = reads(&history);
            let i = all[rng.below(all.len())];
            // Another answer the state could have given at some time: a flipped status, another
            // alias binding.
            let corrupt = match history[i].output.clone() {
                Some(KmsOutput::Described(Some(view))) => {
                    let status = if view.status == Enabled { Disabled } else { Enabled };
                    KmsOutput::Described(Some(KeyView { status, ..view }))
                }
                Some(KmsOutput::Described(None)) => KmsOutput::Described(Some(KeyView {
                    description: String::new(),
                    status: Enabled,
                })),
                Some(KmsOutput::AliasTarget(Some(_))) => KmsOutput::AliasTarget(None),
                Some(KmsOutput::AliasTarget(None)) => KmsOutput::AliasTarget(Some("key-0".into())),
                Some(KmsOutput::AliasOf(bound)) => KmsOutput::AliasOf(!bound),
                other => unreachable!("{other:?}"),
            };
            history[i].output = Some(corrupt);
            let result = verdict(&history);
            assert!(
                matches!(result, CheckResult::Illegal { .. }),
                "seed {seed}, op {i}: {result:?}"
            );
        }
    }

    /// With [`Timing::Neighbours`], operations two or more apart never overlap. A DescribeKey
    /// that returns the description the key had before its last two answered description writes
    /// (themselves two apart, and two before the read) cannot be linearized: descriptions are
    /// unique, so that value was overwritten before the read began.
    #[test]
    fn random_histories_with_a_stale_description_fail() {
        let mut corrupted = 0;
        for seed in 0..60 {
            let mut rng = Rng::new(seed);
            let mut history = random_history(&mut rng, 150, Timing::Neighbours, 0.1);
            let stale = (0..history.len()).rev().find_map(|i| {
                let KmsInput::DescribeKey { key } = &history[i].input else { return None };
                let Some(KmsOutput::Described(Some(_))) = history[i].output else { return None };
                let writes: Vec<(usize, &String)> = history[..i.saturating_sub(1)]
                    .iter()
                    .enumerate()
                    .filter_map(|(j, w)| match (&w.input, &w.output) {
                        (KmsInput::CreateKey { description }, Some(KmsOutput::Created(id)))
                            if id == key =>
                        {
                            Some((j, description))
                        }
                        (
                            KmsInput::UpdateKeyDescription { key: k, description },
                            Some(KmsOutput::KeyWrite(KeyOutcome::Ok)),
                        ) if k == key => Some((j, description)),
                        _ => None,
                    })
                    .collect();
                let [.., (j1, old), (j2, _)] = writes[..] else { return None };
                (j1 + 2 <= j2).then(|| (i, old.clone()))
            });
            let Some((i, old)) = stale else { continue };
            let Some(KmsOutput::Described(Some(view))) = &mut history[i].output else {
                unreachable!()
            };
            view.description = old;
            corrupted += 1;
            let result = verdict(&history);
            assert!(
                matches!(result, CheckResult::Illegal { .. }),
                "seed {seed}, op {i}: {result:?}"
            );
        }
        assert!(corrupted >= 20, "only {corrupted} histories had a stale read to make");
    }

    /// An answer of the kind `input` gets, at random.
    fn random_output(rng: &mut Rng, input: &KmsInput) -> KmsOutput {
        let pick = |rng: &mut Rng, keys: &[&str]| keys[rng.below(keys.len())].to_string();
        match input {
            KmsInput::CreateKey { .. } => KmsOutput::Created(pick(rng, &["k1", "k2"])),
            KmsInput::UpdateKeyDescription { .. }
            | KmsInput::EnableKey { .. }
            | KmsInput::DisableKey { .. } => {
                KmsOutput::KeyWrite([KeyOutcome::Ok, KeyOutcome::KeyNotFound][rng.below(2)])
            }
            KmsInput::DescribeKey { .. } => {
                KmsOutput::Described(rng.chance(0.8).then(|| KeyView {
                    description: pick(rng, &["c1", "c2", "x"]),
                    status: [Enabled, Disabled][rng.below(2)],
                }))
            }
            KmsInput::CreateAlias { .. } | KmsInput::UpdateAlias { .. } => {
                KmsOutput::AliasWrite([Done, AlreadyExists, NotFound, KeyNotFound][rng.below(4)])
            }
            KmsInput::GetAlias { .. } => {
                KmsOutput::AliasTarget(rng.chance(0.7).then(|| pick(rng, &["k1", "k2"])))
            }
            KmsInput::IsAliasOf { .. } => KmsOutput::AliasOf(rng.chance(0.5)),
        }
    }

    /// The parts agree with a check of the whole history (with every order tried) when keys are
    /// named only after their creation returned.
    #[test]
    fn small_random_histories_get_the_verdict_of_trying_every_order() {
        let (mut legal, mut illegal) = (0, 0);
        for seed in 0..800 {
            let mut rng = Rng::new(seed);
            let mut planned: Vec<(u64, u64, u64, KmsInput)> = ["c1", "c2"]
                .into_iter()
                .map(|d| {
                    let call = rng.range(0, 5);
                    let input = KmsInput::CreateKey { description: d.into() };
                    (rng.range(call, 10), call, 10, input)
                })
                .collect();
            for _ in 0..rng.range(1, 6) {
                let call = rng.range(11, 40);
                let ret = call + rng.range(0, 15);
                // k3 is never created.
                let key = ["k1", "k2", "k3"][rng.below(3)].to_string();
                let alias = ["alias/a", "alias/b"][rng.below(2)].to_string();
                let description = ["c1", "x"][rng.below(2)].to_string();
                let input = match rng.below(9) {
                    0 => KmsInput::UpdateKeyDescription { key, description },
                    1 => KmsInput::EnableKey { key },
                    2 => KmsInput::DisableKey { key },
                    3 => KmsInput::DescribeKey { key },
                    4 => KmsInput::CreateAlias { alias, key },
                    5 => KmsInput::UpdateAlias { alias, key },
                    6 => KmsInput::GetAlias { alias },
                    7 => KmsInput::IsAliasOf { alias, key },
                    _ => KmsInput::CreateAlias { alias, key },
                };
                planned.push((rng.range(call, ret), call, ret, input));
            }
            planned.sort_by_key(|p| p.0);
            // Answered as the model would at those points, then some answers changed and some
            // writes left unanswered.
            let mut state = KmsState::default();
            let mut created = 0;
            let history: Vec<KmsOperation> = planned
                .into_iter()
                .map(|(_, call, ret, input)| {
                    let (next, mut output) = match &input {
                        KmsInput::CreateKey { .. } => {
                            created += 1;
                            let output = KmsOutput::Created(format!("k{created}"));
                            (KmsModel.step(&state, &input, &output).expect("new id"), output)
                        }
                        _ => apply(&state, &input).expect("not CreateKey"),
                    };
                    state = next;
                    let create = matches!(input, KmsInput::CreateKey { .. });
                    if !create && rng.chance(0.3) {
                        output = random_output(&mut rng, &input);
                    }
                    let output = (create || !rng.chance(0.25)).then_some(output);
                    KmsOperation { client: 0, input, call, output, ret }
                })
                .collect();
            let expected = brute_force(&KmsModel, &history);
            let result = verdict(&history);
            match result {
                CheckResult::Ok => legal += 1,
                CheckResult::Illegal { .. } => illegal += 1,
                CheckResult::Unknown => {}
            }
            assert_eq!(result.is_ok(), expected, "seed {seed}: {result:?} for {history:#?}");
            assert_ne!(result, CheckResult::Unknown);
        }
        assert!(legal > 150 && illegal > 150, "{legal} legal, {illegal} illegal");
    }

    #[test]
    fn two_hundred_operations_on_one_key_by_eight_clients_check_quickly() {
        for (seed, unknown) in [(1, 0.0), (2, 0.0), (3, 0.05), (4, 0.05)] {
            let mut rng = Rng::new(seed);
            let timing = timings(&mut rng, 200, Timing::Clients(8));
            let mut state = KmsState::default();
            let mut history = vec![create("k", "d", 0, 0)];
            state = KmsModel
                .step(&state, &history[0].input, history[0].output.as_ref().unwrap())
                .unwrap();
            for (i, (client, call, ret)) in timing.into_iter().enumerate() {
                let key = "k".to_string();
                let input = match rng.below(4) {
                    0 => KmsInput::UpdateKeyDescription { key, description: format!("d{}", i % 5) },
                    1 => KmsInput::EnableKey { key },
                    2 => KmsInput::DisableKey { key },
                    _ => KmsInput::DescribeKey { key },
                };
                let (next, output) = apply(&state, &input).unwrap();
                state = next;
                let output = match input {
                    KmsInput::DescribeKey { .. } => Some(output),
                    _ if rng.chance(unknown) => None,
                    _ => Some(output),
                };
                history.push(KmsOperation { client, input, call: call + 1, output, ret: ret + 1 });
            }
            let unanswered = history.iter().filter(|o| o.output.is_none()).count();
            let started = Instant::now();
            let result = verdict(&history);
            let took = started.elapsed();
            assert!(result.is_ok(), "seed {seed}: {result:?}");
            // A DescribeKey late in the history showing a description never written.
            let describes: Vec<usize> = (0..history.len())
                .filter(|&i| matches!(history[i].input, KmsInput::DescribeKey { .. }))
                .collect();
            let view = KeyView { description: "never written".into(), status: KeyStatus::Enabled };
            history[describes[describes.len() - 10]].output =
                Some(KmsOutput::Described(Some(view)));
            let started = Instant::now();
            let result = verdict(&history);
            let refuted = started.elapsed();
            assert!(matches!(result, CheckResult::Illegal { .. }), "seed {seed}: {result:?}");
            eprintln!(
                "one key, 200 ops, 8 clients, {unanswered} unanswered: linearizable in {took:?}, \
                 corrupted refuted in {refuted:?}"
            );
            assert!(took < Duration::from_millis(500), "seed {seed}: {took:?}");
            assert!(refuted < Duration::from_millis(3000), "seed {seed}: {refuted:?}");
        }
    }
}
