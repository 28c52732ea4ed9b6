//! Scheduled work executed exactly once under leader faults (issue 5, acceptance 2–4; secrets:
//! issue 17).
//!
//! Three real `yaoshi serve` processes run the scaled test clock (every node with the same epoch,
//! so restarted nodes agree on KMS time) and a 100 ms scheduler tick; one worker is fed by node 1.
//! While keys are created (half scheduled for deletion with 7–30 day windows, half rotating every
//! 7–14 days) and secrets are created ([`DELETION_SECRETS`] deleted with 7–30 day recovery
//! windows, [`ROTATING_SECRETS`] rotating every 7–14 days), and their deletion dates and rotation
//! slots come due, the current leader is SIGKILLed and restarted or SIGSTOPped past the election
//! timeout and resumed, at least [`MIN_FAULTS`] times and until [`MIN_LEADER_CHANGES`] of them
//! moved the leadership. Meanwhile small plaintexts are encrypted under the rotating keys,
//! ACSCurrent of the rotating secrets is read through nodes and the worker, and watchers check
//! that no key or secret disappears before its DeleteDate / PlannedDeleteTime.
//!
//! At the end, on every node and the worker: every scheduled key is `Forbidden.KeyNotFound`
//! (DescribeKey, Encrypt, Decrypt of its ciphertext) and every deleted secret
//! `Forbidden.ResourceNotFound`; every rotating key has
//! `1 + (LastRotationDate − CreationDate) / interval` versions with LastRotationDate on its
//! schedule and NextRotationDate not overdue when read; every rotating secret's ACSCurrent reads
//! the same everywhere and every version value read during the run is unchanged; every ciphertext
//! decrypts. Then the stores of the stopped nodes: identical audit trails and state digests,
//! exactly one applied `PurgeKey` / `PurgeSecret` per scheduled key / deleted secret at or after
//! its date, one applied `RotateKey` / `AutoRotateSecret` per version beyond the first (each at
//! least one interval after the previous), none for anything else. The figures are printed
//! (`--nocapture`) and recorded in docs/RELIABILITY.md.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chaos_tests::call::Outcome;
use chaos_tests::{
    Cluster, ClusterSpec, Rng, ScaledClock, call_once, call_retrying, parse_date_ms, run_dir,
};
use yaoshi_client::{Client, Response};
use yaoshi_model::AuditEvent;

/// KMS milliseconds per wall millisecond: 7 days pass in about 12 s, 30 days in about 52 s.
const SCALE: f64 = 50_000.0;
/// The scheduler's tick on every node (`--scheduler-tick-ms`).
const TICK_MS: u64 = 100;
/// How late a NextRotationDate may be when read: two scheduler ticks (a slot falling just after a
/// tick is proposed by the next one, then committed and applied).
const OVERDUE_SLACK: Duration = Duration::from_millis(2 * TICK_MS);
const DAY_MS: i64 = 86_400_000;
const DELETION_KEYS: usize = 100;
const ROTATING_KEYS: usize = 100;
/// Faults injected on the leader, at least (the loop also runs until every deletion is due and
/// [`MIN_LEADER_CHANGES`] faults moved the leadership).
const MIN_FAULTS: usize = 22;
/// Faults after which another node leads, at least (a quick kill usually leaves the leader as is).
const MIN_LEADER_CHANGES: usize = 20;
const REGION: &str = "cn-hangzhou";
const PER_ATTEMPT: Duration = Duration::from_secs(3);
const GIVE_UP: Duration = Duration::from_secs(60);
const KEY_NOT_FOUND: &str = "Forbidden.KeyNotFound";
const DELETION_SECRETS: usize = 200;
const ROTATING_SECRETS: usize = 100;
/// The VersionId every secret is created with.
const FIRST_VERSION: &str = "v1";
const SECRET_NOT_FOUND: &str = "Forbidden.ResourceNotFound";
const SECRET_EXISTS: &str = "Rejected.ResourceExist";
const IN_DELETE_WINDOW: &str = "Rejected.ResourceInDeleteWindow";
/// The description of a master key CreateSecret makes when the region has none yet.
const DEFAULT_SECRETS_KEY: &str = "Default master key of the secrets manager";

/// A key scheduled for deletion.
#[derive(Debug, Clone)]
struct DeletionKey {
    key_id: String,
    window_days: u64,
    /// DeleteDate as DescribeKey showed it right after scheduling (second precision), if read.
    delete_date_ms: Option<i64>,
    /// A ciphertext made before the deletion was scheduled.
    blob: String,
}

/// A secret deleted with a recovery window.
#[derive(Debug, Clone)]
struct DeletedSecret {
    name: String,
    window_days: u64,
    /// PlannedDeleteTime as DescribeSecret showed it right after deleting (second precision).
    planned_ms: Option<i64>,
}

/// A ciphertext and what it must decrypt to.
#[derive(Debug, Clone)]
struct Blob {
    key_id: String,
    version_id: String,
    blob: String,
    plaintext: String,
}

/// What the test's tasks recorded during the run.
#[derive(Debug, Default)]
struct Book {
    deletion: Vec<DeletionKey>,
    /// Rotating keys this test created (key id, interval days).
    rotating: Vec<(String, u64)>,
    blobs: Vec<Blob>,
    /// CreateKey calls that needed more than one attempt (each may have made a duplicate).
    retried_creates: usize,
    /// Encrypts refused with KeyNotFound by a replica that had not applied the key yet.
    lagging_encrypts: usize,
    /// Encrypts that found no live endpoint in time.
    unavailable_encrypts: usize,
    /// DescribeKey checks of keys whose DeleteDate had not passed.
    early_purge_checks: usize,
    deleted_secrets: Vec<DeletedSecret>,
    /// Rotating secrets this test created (name, interval days).
    rotating_secrets: Vec<(String, u64)>,
    /// The value of every secret version seen, by (secret, version id): the first version's as
    /// created, the others as GetSecretValue first returned them.
    secret_values: BTreeMap<(String, String), String>,
    /// CreateSecret calls that needed more than one attempt.
    retried_secret_creates: usize,
    /// Retried CreateSecret/DeleteSecret refused because an earlier attempt had applied.
    secret_retries_refused: usize,
    /// GetSecretValue of ACSCurrent answered with a value (of which through the worker).
    secret_reads: usize,
    worker_secret_reads: usize,
    /// GetSecretValue refused with ResourceNotFound by a replica that had not applied the secret.
    lagging_secret_reads: usize,
    /// GetSecretValue calls that found no live endpoint in time.
    unavailable_secret_reads: usize,
    /// DescribeSecret checks of secrets whose PlannedDeleteTime had not passed.
    early_secret_purge_checks: usize,
    /// Anything that must not happen, seen during the run.
    violations: Vec<String>,
}

/// Per endpoint, per rotating key: CreationDate, LastRotationDate, versions, primary version.
type KeyViews = BTreeMap<String, BTreeMap<String, (i64, i64, usize, String)>>;

/// Per endpoint, per rotating secret: what the endpoint showed of it.
type SecretViews<T> = Arc<Mutex<BTreeMap<String, BTreeMap<String, T>>>>;

/// Per action: calls, attempts, total and longest time.
type CallStats = BTreeMap<&'static str, (usize, u32, Duration, Duration)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FaultKind {
    /// SIGKILL, restart once the others have elected a new leader.
    Kill,
    /// SIGKILL, restart within 100–400 ms: before an election, so the node may resume as the
    /// leader of the same term (openraft restores a committed vote for itself on startup) with a
    /// new scheduler.
    QuickKill,
    /// SIGSTOP past the election timeout, SIGCONT once the others have elected a new leader.
    Pause,
}

#[derive(Debug)]
struct Fault {
    kind: FaultKind,
    node: usize,
    down: Duration,
    new_leader: usize,
}

fn key_id(r: &Response) -> Option<String> {
    r.body["KeyMetadata"]["KeyId"].as_str().map(str::to_string)
}

fn date_field(r: &Response, field: &str) -> Option<i64> {
    r.body["KeyMetadata"][field].as_str().and_then(parse_date_ms)
}

/// `604800s` → 604800.
fn interval_s(r: &Response) -> Option<i64> {
    r.body["KeyMetadata"]["RotationInterval"].as_str()?.strip_suffix('s')?.parse().ok()
}

/// Per action of the creator tasks: calls, attempts, total and longest time.
static CREATOR_CALLS: Mutex<CallStats> = Mutex::new(BTreeMap::new());
/// Transient failures of the creator tasks' attempts, by action and (shortened) reason.
static CREATOR_TRANSIENTS: Mutex<BTreeMap<(&'static str, String), usize>> =
    Mutex::new(BTreeMap::new());

/// [`call_retrying`], counted in [`CREATOR_CALLS`] and [`CREATOR_TRANSIENTS`].
async fn creator_call(
    clients: &[Client],
    rng: &mut Rng,
    action: &'static str,
    params: &[(&str, &str)],
    per_attempt: Duration,
    give_up: Duration,
) -> Result<(Response, u32), String> {
    let started = Instant::now();
    let deadline = started + give_up;
    let mut attempts = 0;
    let out = loop {
        attempts += 1;
        let c = &clients[rng.below(clients.len())];
        match call_once(c, action, params, per_attempt).await {
            Outcome::Answered(r) => break Ok((r, attempts)),
            Outcome::Transient(e) => {
                let reason = e.replace(c.endpoint(), "<node>").chars().take(160).collect();
                *CREATOR_TRANSIENTS.lock().unwrap().entry((action, reason)).or_default() += 1;
                if Instant::now() >= deadline {
                    break Err(format!("after {attempts} attempts: {e}"));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    let took = started.elapsed();
    let mut calls = CREATOR_CALLS.lock().unwrap();
    let c = calls.entry(action).or_default();
    c.0 += 1;
    c.1 += attempts;
    c.2 += took;
    c.3 = c.3.max(took);
    out
}

/// What [`CREATOR_CALLS`] counted, one line per action.
fn creator_calls() -> String {
    let calls = CREATOR_CALLS.lock().unwrap();
    let lines: Vec<String> = calls
        .iter()
        .map(|(action, (n, attempts, total, max))| {
            format!(
                "  creator calls {action}: {n} ({attempts} attempts), mean {:?}, longest {max:?}",
                *total / u32::try_from(*n).unwrap_or(u32::MAX).max(1)
            )
        })
        .collect();
    let transients = CREATOR_TRANSIENTS.lock().unwrap();
    let mut top: Vec<_> = transients.iter().collect();
    top.sort_by_key(|(_, n)| std::cmp::Reverse(**n));
    let top: Vec<String> =
        top.iter().take(8).map(|((a, e), n)| format!("    {n} x {a}: {e}")).collect();
    format!("{}\n  most frequent transient failures:\n{}", lines.join("\n"), top.join("\n"))
}

/// Encrypts with retries on transient failures and on KeyNotFound from a replica that has not
/// applied a just-created key yet.
async fn encrypt(clients: &[Client], rng: &mut Rng, key: &str, plaintext: &str) -> Option<Blob> {
    let deadline = Instant::now() + GIVE_UP;
    while Instant::now() < deadline {
        let params = [("KeyId", key), ("Plaintext", plaintext)];
        match creator_call(clients, rng, "Encrypt", &params, PER_ATTEMPT, GIVE_UP).await {
            Ok((r, _)) if r.status == 200 => {
                return Some(Blob {
                    key_id: key.to_string(),
                    version_id: r.str("KeyVersionId")?.to_string(),
                    blob: r.str("CiphertextBlob")?.to_string(),
                    plaintext: plaintext.to_string(),
                });
            }
            Ok((r, _)) if r.code() == Some(KEY_NOT_FOUND) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(_) | Err(_) => return None,
        }
    }
    None
}

/// What a creator task makes, in a random order.
enum Subject {
    Key(usize),
    Secret(usize),
}

/// Creates keys `keys` (even: rotating, odd: scheduled for deletion) and secrets `secrets` (below
/// [`DELETION_SECRETS`]: deleted with a recovery window; the rest rotating), interleaved at
/// random, through random nodes.
async fn create_subjects(
    clients: Vec<Client>,
    mut rng: Rng,
    keys: std::ops::Range<usize>,
    secrets: std::ops::Range<usize>,
    book: Arc<Mutex<Book>>,
) {
    let mut subjects: Vec<Subject> =
        keys.map(Subject::Key).chain(secrets.map(Subject::Secret)).collect();
    for i in (1..subjects.len()).rev() {
        subjects.swap(i, rng.below(i + 1));
    }
    for s in subjects {
        match s {
            Subject::Key(i) => create_key(&clients, &mut rng, i, &book).await,
            Subject::Secret(i) => create_secret(&clients, &mut rng, i, &book).await,
        }
    }
}

/// Key `i`: rotating (even) or scheduled for deletion (odd), with a first ciphertext.
async fn create_key(clients: &[Client], rng: &mut Rng, i: usize, book: &Mutex<Book>) {
    let rotating = i.is_multiple_of(2);
    let interval = format!("{}d", rng.range(7, 14));
    let mut params = vec![("Description", "chaos scheduler subject")];
    if rotating {
        params.push(("EnableAutomaticRotation", "true"));
        params.push(("RotationInterval", &interval));
    }
    let created = creator_call(clients, rng, "CreateKey", &params, PER_ATTEMPT, GIVE_UP).await;
    let key = match created {
        Ok((r, attempts)) if r.status == 200 => {
            if attempts > 1 {
                book.lock().unwrap().retried_creates += 1;
            }
            key_id(&r).expect("CreateKey returns a KeyId")
        }
        other => {
            book.lock().unwrap().violations.push(format!("CreateKey failed: {other:?}"));
            return;
        }
    };
    let plaintext = format!("chaos {i} first");
    let Some(blob) = encrypt(clients, rng, &key, &plaintext).await else {
        book.lock().unwrap().violations.push(format!("first Encrypt under {key} failed"));
        return;
    };
    if rotating {
        let days = interval.trim_end_matches('d').parse().unwrap();
        let mut b = book.lock().unwrap();
        b.rotating.push((key, days));
        b.blobs.push(blob);
        return;
    }
    let window = rng.range(7, 30);
    let w = window.to_string();
    let params = [("KeyId", key.as_str()), ("PendingWindowInDays", w.as_str())];
    let scheduled =
        creator_call(clients, rng, "ScheduleKeyDeletion", &params, PER_ATTEMPT, GIVE_UP).await;
    let described =
        creator_call(clients, rng, "DescribeKey", &[("KeyId", &key)], PER_ATTEMPT, GIVE_UP).await;
    let state = described
        .as_ref()
        .ok()
        .and_then(|(r, _)| r.body["KeyMetadata"]["KeyState"].as_str().map(str::to_string));
    let ok = match &scheduled {
        Ok((r, _)) if r.status == 200 => true,
        // A timed-out attempt applied the schedule; the retry was refused by the key state.
        Ok((_, attempts)) => *attempts > 1 && state.as_deref() == Some("PendingDeletion"),
        Err(_) => false,
    };
    let mut b = book.lock().unwrap();
    if !ok {
        b.violations.push(format!("ScheduleKeyDeletion of {key}: {scheduled:?} then {state:?}"));
        return;
    }
    let delete_date_ms = described.ok().and_then(|(r, _)| date_field(&r, "DeleteDate"));
    b.deletion.push(DeletionKey {
        key_id: key,
        window_days: window,
        delete_date_ms,
        blob: blob.blob,
    });
}

/// DescribeSecret through random nodes, `None` when nothing answered.
async fn describe_secret(clients: &[Client], rng: &mut Rng, name: &str) -> Option<Response> {
    let params = [("SecretName", name)];
    creator_call(clients, rng, "DescribeSecret", &params, PER_ATTEMPT, GIVE_UP)
        .await
        .ok()
        .map(|(r, _)| r)
}

/// Secret `i` (a small text value as [`FIRST_VERSION`]): below [`DELETION_SECRETS`] then deleted
/// with a 7–30 day recovery window, otherwise rotating automatically every 7–14 days.
async fn create_secret(clients: &[Client], rng: &mut Rng, i: usize, book: &Mutex<Book>) {
    let deleted = i < DELETION_SECRETS;
    let name = if deleted { format!("chaos/del/{i}") } else { format!("chaos/rot/{i}") };
    let value = format!("chaos secret {i}");
    let days = rng.range(7, 14);
    let interval = format!("{days}d");
    let mut params =
        vec![("SecretName", name.as_str()), ("VersionId", FIRST_VERSION), ("SecretData", &value)];
    if !deleted {
        params.push(("EnableAutomaticRotation", "true"));
        params.push(("RotationInterval", &interval));
    }
    let created = creator_call(clients, rng, "CreateSecret", &params, PER_ATTEMPT, GIVE_UP).await;
    let (ok, refused) = match &created {
        Ok((r, _)) if r.status == 200 => (true, false),
        // A timed-out attempt created it; the retry was refused because it exists.
        Ok((r, attempts)) if *attempts > 1 && r.code() == Some(SECRET_EXISTS) => {
            (describe_secret(clients, rng, &name).await.is_some_and(|r| r.status == 200), true)
        }
        _ => (false, false),
    };
    if !ok {
        book.lock().unwrap().violations.push(format!("CreateSecret {name}: {created:?}"));
        return;
    }
    {
        let mut b = book.lock().unwrap();
        b.retried_secret_creates += usize::from(created.as_ref().is_ok_and(|(_, a)| *a > 1));
        b.secret_retries_refused += usize::from(refused);
        b.secret_values.insert((name.clone(), FIRST_VERSION.to_string()), value);
        if !deleted {
            b.rotating_secrets.push((name, days));
            return;
        }
    }
    let window = rng.range(7, 30);
    let w = window.to_string();
    let params = [("SecretName", name.as_str()), ("RecoveryWindowInDays", w.as_str())];
    let deletion = creator_call(clients, rng, "DeleteSecret", &params, PER_ATTEMPT, GIVE_UP).await;
    let described = describe_secret(clients, rng, &name).await;
    let planned_ms =
        described.as_ref().and_then(|r| r.str("PlannedDeleteTime")).and_then(parse_date_ms);
    let (ok, refused) = match &deletion {
        Ok((r, _)) if r.status == 200 => (true, false),
        // A timed-out attempt applied the deletion; the retry was refused by the recovery window.
        Ok((r, attempts)) => {
            (*attempts > 1 && r.code() == Some(IN_DELETE_WINDOW) && planned_ms.is_some(), true)
        }
        Err(_) => (false, false),
    };
    let mut b = book.lock().unwrap();
    if !ok {
        b.violations.push(format!(
            "DeleteSecret {name}: {deletion:?} then {:?}",
            described.map(|r| r.body)
        ));
        return;
    }
    b.secret_retries_refused += usize::from(refused);
    b.deleted_secrets.push(DeletedSecret { name, window_days: window, planned_ms });
}

/// Encrypts under the rotating keys, round robin, through nodes and the worker, until `stop`.
async fn encrypt_now_and_then(
    endpoints: Vec<Client>,
    mut rng: Rng,
    book: Arc<Mutex<Book>>,
    stop: Arc<AtomicBool>,
) {
    let mut n = 0usize;
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(40)).await;
        let key = {
            let b = book.lock().unwrap();
            if b.rotating.is_empty() {
                continue;
            }
            b.rotating[n % b.rotating.len()].0.clone()
        };
        n += 1;
        let plaintext = format!("chaos {key} #{n}");
        let c = &endpoints[rng.below(endpoints.len())];
        let params = [("KeyId", key.as_str()), ("Plaintext", plaintext.as_str())];
        let out = call_once(c, "Encrypt", &params, Duration::from_secs(2)).await;
        let mut b = book.lock().unwrap();
        match out {
            Outcome::Answered(r) if r.status == 200 => b.blobs.push(Blob {
                key_id: key,
                version_id: r.str("KeyVersionId").unwrap_or_default().to_string(),
                blob: r.str("CiphertextBlob").unwrap_or_default().to_string(),
                plaintext,
            }),
            Outcome::Answered(r) if r.code() == Some(KEY_NOT_FOUND) => b.lagging_encrypts += 1,
            Outcome::Answered(r) => {
                b.violations.push(format!("Encrypt under {key} on {}: {:?}", c.endpoint(), r.body))
            }
            Outcome::Transient(_) => b.unavailable_encrypts += 1,
        }
    }
}

/// Describes scheduled keys whose DeleteDate has not passed (linearizable reads) until `stop`:
/// none may be gone yet.
async fn watch_for_early_purges(
    clients: Vec<Client>,
    clock: ScaledClock,
    mut rng: Rng,
    book: Arc<Mutex<Book>>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let margin = clock.kms_duration(Duration::from_millis(300));
        let candidate = {
            let b = book.lock().unwrap();
            let now = clock.now_ms();
            let pending: Vec<&DeletionKey> = b
                .deletion
                .iter()
                .filter(|d| d.delete_date_ms.is_some_and(|t| t > now + margin))
                .collect();
            if pending.is_empty() {
                continue;
            }
            let d = pending[rng.below(pending.len())];
            (d.key_id.clone(), d.delete_date_ms.unwrap())
        };
        let c = &clients[rng.below(clients.len())];
        let out =
            call_once(c, "DescribeKey", &[("KeyId", &candidate.0)], Duration::from_secs(2)).await;
        let answered_kms = clock.now_ms();
        let Outcome::Answered(r) = out else { continue };
        let mut b = book.lock().unwrap();
        b.early_purge_checks += 1;
        let state = r.body["KeyMetadata"]["KeyState"].as_str();
        if answered_kms < candidate.1 && (r.status != 200 || state != Some("PendingDeletion")) {
            b.violations.push(format!(
                "{} is {:?} at KMS {answered_kms} before its DeleteDate {}",
                candidate.0, r.body, candidate.1
            ));
        }
    }
}

/// Reads ACSCurrent of the rotating secrets, round robin, through nodes and the worker (the last
/// endpoint), until `stop`: a version must always read as the same value, the first one as it
/// was created.
async fn read_secrets_now_and_then(
    endpoints: Vec<Client>,
    mut rng: Rng,
    book: Arc<Mutex<Book>>,
    stop: Arc<AtomicBool>,
) {
    let mut n = 0usize;
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(40)).await;
        let name = {
            let b = book.lock().unwrap();
            if b.rotating_secrets.is_empty() {
                continue;
            }
            b.rotating_secrets[n % b.rotating_secrets.len()].0.clone()
        };
        n += 1;
        let e = rng.below(endpoints.len());
        let c = &endpoints[e];
        let out =
            call_once(c, "GetSecretValue", &[("SecretName", &name)], Duration::from_secs(2)).await;
        let mut b = book.lock().unwrap();
        let r = match out {
            Outcome::Answered(r) if r.status == 200 => r,
            Outcome::Answered(r) if r.code() == Some(SECRET_NOT_FOUND) => {
                b.lagging_secret_reads += 1;
                continue;
            }
            Outcome::Answered(r) => {
                b.violations.push(format!(
                    "GetSecretValue {name} on {}: {} {:?}",
                    c.endpoint(),
                    r.status,
                    r.body
                ));
                continue;
            }
            Outcome::Transient(_) => {
                b.unavailable_secret_reads += 1;
                continue;
            }
        };
        b.secret_reads += 1;
        b.worker_secret_reads += usize::from(e == endpoints.len() - 1);
        let current = r.body["VersionStages"]["VersionStage"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s == "ACSCurrent"));
        let (Some(version), Some(data), true) = (r.str("VersionId"), r.str("SecretData"), current)
        else {
            b.violations.push(format!("GetSecretValue {name} on {}: {:?}", c.endpoint(), r.body));
            continue;
        };
        let seen =
            b.secret_values.entry((name.clone(), version.to_string())).or_insert(data.into());
        if seen != data {
            let seen = seen.clone();
            b.violations.push(format!(
                "GetSecretValue {name} on {}: version {version} is {data:?}, was {seen:?}",
                c.endpoint()
            ));
        }
    }
}

/// Describes deleted secrets whose PlannedDeleteTime has not passed (linearizable reads) until
/// `stop`: none may be gone yet.
async fn watch_for_early_secret_purges(
    clients: Vec<Client>,
    clock: ScaledClock,
    mut rng: Rng,
    book: Arc<Mutex<Book>>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let margin = clock.kms_duration(Duration::from_millis(300));
        let (name, planned) = {
            let b = book.lock().unwrap();
            let now = clock.now_ms();
            let pending: Vec<&DeletedSecret> = b
                .deleted_secrets
                .iter()
                .filter(|d| d.planned_ms.is_some_and(|t| t > now + margin))
                .collect();
            if pending.is_empty() {
                continue;
            }
            let d = pending[rng.below(pending.len())];
            (d.name.clone(), d.planned_ms.unwrap())
        };
        let c = &clients[rng.below(clients.len())];
        let out =
            call_once(c, "DescribeSecret", &[("SecretName", &name)], Duration::from_secs(2)).await;
        let answered_kms = clock.now_ms();
        let Outcome::Answered(r) = out else { continue };
        let mut b = book.lock().unwrap();
        b.early_secret_purge_checks += 1;
        if answered_kms < planned && (r.status != 200 || r.str("PlannedDeleteTime").is_none()) {
            b.violations.push(format!(
                "{name} is {} {:?} on {} at KMS {answered_kms} before its PlannedDeleteTime {planned}",
                r.status,
                r.body,
                c.endpoint()
            ));
        }
    }
}

/// Runs `f` over `items` on `tasks` concurrent tasks, collecting the failures it reports.
async fn check_all<T, F, Fut>(items: Vec<T>, tasks: usize, f: F) -> Vec<String>
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<String>> + Send,
{
    let f = Arc::new(f);
    let items = Arc::new(Mutex::new(items));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let (f, items) = (f.clone(), items.clone());
        set.spawn(async move {
            let mut failures = Vec::new();
            loop {
                let Some(item) = items.lock().unwrap().pop() else { break };
                if let Some(e) = f(item).await {
                    failures.push(e);
                }
            }
            failures
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.extend(r.expect("check task"));
    }
    out
}

/// One call that must be answered (no faults are running any more).
async fn must_answer(c: &Client, action: &str, params: &[(&str, &str)]) -> Response {
    match call_once(c, action, params, Duration::from_secs(10)).await {
        Outcome::Answered(r) => r,
        Outcome::Transient(e) => panic!("{e}"),
    }
}

/// Every key id listed by ListKeys (all pages).
async fn list_keys(c: &Client) -> Vec<String> {
    let mut out = Vec::new();
    for page in 1.. {
        let p = page.to_string();
        let r = must_answer(c, "ListKeys", &[("PageSize", "100"), ("PageNumber", &p)]).await;
        assert_eq!(r.status, 200, "ListKeys: {:?}", r.body);
        let items = r.body["Keys"]["Key"].as_array().cloned().unwrap_or_default();
        out.extend(items.iter().filter_map(|k| k["KeyId"].as_str().map(str::to_string)));
        if items.len() < 100 {
            break;
        }
    }
    out
}

/// Every version id of `key` listed by ListKeyVersions (all pages, in listing order).
async fn list_versions(c: &Client, key: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for page in 1.. {
        let p = page.to_string();
        let params = [("KeyId", key), ("PageSize", "100"), ("PageNumber", p.as_str())];
        let r = must_answer(c, "ListKeyVersions", &params).await;
        if r.status != 200 {
            return Err(format!("ListKeyVersions {key} on {}: {:?}", c.endpoint(), r.body));
        }
        let items = r.body["KeyVersions"]["KeyVersion"].as_array().cloned().unwrap_or_default();
        out.extend(items.iter().filter_map(|v| v["KeyVersionId"].as_str().map(str::to_string)));
        if items.len() < 100 {
            break;
        }
    }
    Ok(out)
}

/// Every secret name listed by ListSecrets (all pages).
async fn list_secrets(c: &Client) -> Vec<String> {
    let mut out = Vec::new();
    for page in 1.. {
        let p = page.to_string();
        let r = must_answer(c, "ListSecrets", &[("PageSize", "100"), ("PageNumber", &p)]).await;
        assert_eq!(r.status, 200, "ListSecrets: {:?}", r.body);
        let items = r.body["SecretList"]["Secret"].as_array().cloned().unwrap_or_default();
        out.extend(items.iter().filter_map(|s| s["SecretName"].as_str().map(str::to_string)));
        if items.len() < 100 {
            break;
        }
    }
    out
}

/// What the audit trail says about scheduled work.
#[derive(Debug, Default)]
struct Trail {
    /// Applied `PurgeKey` times by key.
    purges: BTreeMap<String, Vec<i64>>,
    /// Applied `RotateKey` times by key.
    rotations: BTreeMap<String, Vec<i64>>,
    purge_noops: usize,
    rotate_noops: usize,
    /// Scheduled actions with any other outcome.
    other_outcomes: Vec<String>,
    /// Applied `ExpireKeyMaterial`/`PurgeImportTokens` (none expected: nothing was imported).
    other_scheduled: usize,
    /// Last applied ScheduleKeyDeletion time by key.
    scheduled_at: BTreeMap<String, i64>,
    /// Last applied UpdateRotationPolicy time by key.
    policy_at: BTreeMap<String, i64>,
    /// Every key an applied CreateKey made.
    created: BTreeSet<String>,
    /// Applied `PurgeSecret` times by secret.
    secret_purges: BTreeMap<String, Vec<i64>>,
    /// Applied `AutoRotateSecret` times by secret.
    secret_rotations: BTreeMap<String, Vec<i64>>,
    secret_purge_noops: usize,
    secret_rotate_noops: usize,
    /// Last applied DeleteSecret time by secret.
    secret_deleted_at: BTreeMap<String, i64>,
    /// Last applied UpdateSecretRotationPolicy time by secret.
    secret_policy_at: BTreeMap<String, i64>,
    /// Applied CreateSecret commands by secret.
    secrets_created: BTreeMap<String, usize>,
}

fn read_trail(events: &[AuditEvent]) -> Trail {
    use yaoshi_model::AuditOutcome::{Applied, NoOp};
    let mut t = Trail::default();
    for e in events {
        let target = e.target.clone().unwrap_or_default();
        let applied = e.outcome == Applied;
        match (e.action.as_str(), e.outcome) {
            ("PurgeKey", Applied) => t.purges.entry(target).or_default().push(e.at_ms),
            ("RotateKey", Applied) => t.rotations.entry(target).or_default().push(e.at_ms),
            ("PurgeKey", NoOp) => t.purge_noops += 1,
            ("RotateKey", NoOp) => t.rotate_noops += 1,
            ("PurgeKey" | "RotateKey", _) => t.other_outcomes.push(format!("{e:?}")),
            ("PurgeSecret", Applied) => t.secret_purges.entry(target).or_default().push(e.at_ms),
            ("AutoRotateSecret", Applied) => {
                t.secret_rotations.entry(target).or_default().push(e.at_ms)
            }
            ("PurgeSecret", NoOp) => t.secret_purge_noops += 1,
            ("AutoRotateSecret", NoOp) => t.secret_rotate_noops += 1,
            ("PurgeSecret" | "AutoRotateSecret", _) => t.other_outcomes.push(format!("{e:?}")),
            ("ExpireKeyMaterial" | "PurgeImportTokens" | "FinishSecretRotation", Applied) => {
                t.other_scheduled += 1
            }
            ("DeleteSecret", Applied) => {
                t.secret_deleted_at.insert(target, e.at_ms);
            }
            ("UpdateSecretRotationPolicy", Applied) => {
                t.secret_policy_at.insert(target, e.at_ms);
            }
            ("CreateSecret", Applied) => *t.secrets_created.entry(target).or_default() += 1,
            ("ScheduleKeyDeletion", Applied) => {
                t.scheduled_at.insert(target, e.at_ms);
            }
            ("UpdateRotationPolicy", Applied) => {
                t.policy_at.insert(target, e.at_ms);
            }
            ("CreateKey", Applied) => {
                t.created.insert(target);
            }
            _ => {}
        }
        let scheduled = ["PurgeKey", "RotateKey", "PurgeSecret", "AutoRotateSecret"];
        if applied && e.principal.is_some() && scheduled.contains(&e.action.as_str()) {
            t.other_outcomes.push(format!("scheduled action with a principal: {e:?}"));
        }
    }
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scheduled_work_runs_exactly_once_under_leader_faults() {
    let started = Instant::now();
    let seed = Rng::seed_from_env();
    let mut rng = Rng::new(seed);
    let dir = run_dir("scheduler");
    println!("scheduler chaos: seed {seed} (CHAOS_SEED), run directory {}", dir.display());
    let clock = ScaledClock::starting_now(SCALE);
    let mut serve_args = clock.serve_args();
    serve_args.extend(["--scheduler-tick-ms".to_string(), TICK_MS.to_string()]);
    // Compaction often enough that restarted nodes sometimes catch up by snapshot.
    let spec = ClusterSpec {
        serve_args,
        raft_toml: Some("snapshot_logs_since_last = 300\nlogs_to_keep_after_snapshot = 50".into()),
        ..ClusterSpec::default()
    };
    let mut cluster = Cluster::start(&dir, &spec);
    cluster.wait_ready(Duration::from_secs(60)).await.unwrap();
    cluster.agreed_leader(Duration::from_secs(20)).await.unwrap();
    let w = cluster.start_worker(0, &["--staleness-ms", "1000"]);
    let clients = cluster.clients();
    let worker = cluster.workers[w].client();
    let mut endpoints = clients.clone();
    endpoints.push(worker.clone());

    // Subjects are created through random nodes while the faults already run.
    let book = Arc::new(Mutex::new(Book::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let creators_done = Arc::new(AtomicUsize::new(0));
    let total = DELETION_KEYS + ROTATING_KEYS;
    let total_secrets = DELETION_SECRETS + ROTATING_SECRETS;
    const CREATORS: usize = 8;
    let mut creators = Vec::new();
    for t in 0..CREATORS {
        let (clients, rng, book, done) =
            (clients.clone(), rng.fork(), book.clone(), creators_done.clone());
        let keys = t * total / CREATORS..(t + 1) * total / CREATORS;
        let secrets = t * total_secrets / CREATORS..(t + 1) * total_secrets / CREATORS;
        creators.push(tokio::spawn(async move {
            create_subjects(clients, rng, keys, secrets, book).await;
            done.fetch_add(1, Ordering::SeqCst);
        }));
    }
    let encryptor = tokio::spawn(encrypt_now_and_then(
        endpoints.clone(),
        rng.fork(),
        book.clone(),
        stop.clone(),
    ));
    let watcher = tokio::spawn(watch_for_early_purges(
        clients.clone(),
        clock,
        rng.fork(),
        book.clone(),
        stop.clone(),
    ));
    let secret_reader = tokio::spawn(read_secrets_now_and_then(
        endpoints.clone(),
        rng.fork(),
        book.clone(),
        stop.clone(),
    ));
    let secret_watcher = tokio::spawn(watch_for_early_secret_purges(
        clients.clone(),
        clock,
        rng.fork(),
        book.clone(),
        stop.clone(),
    ));

    // Faults on the current leader until enough were injected and every deletion is due.
    let mut faults: Vec<Fault> = Vec::new();
    let faults_started = Instant::now();
    let mut created_in = None;
    loop {
        let crashed = cluster.crashed();
        assert!(crashed.is_empty(), "{}", crashed.join("\n"));
        let created = creators_done.load(Ordering::SeqCst) == CREATORS;
        if created && created_in.is_none() {
            created_in = Some(faults_started.elapsed());
        }
        let last_due = {
            let b = book.lock().unwrap();
            let keys = b.deletion.iter().filter_map(|d| d.delete_date_ms);
            keys.chain(b.deleted_secrets.iter().filter_map(|d| d.planned_ms)).max()
        };
        let moved = faults.iter().filter(|f| f.new_leader != f.node).count();
        if faults.len() >= MIN_FAULTS
            && moved >= MIN_LEADER_CHANGES
            && created
            && last_due.is_some_and(|t| clock.now_ms() > t)
        {
            break;
        }
        assert!(
            faults_started.elapsed() < Duration::from_secs(150),
            "only {} faults in {:?} (subjects created in {created_in:?}; last deletion due in {:?})\n{}",
            faults.len(),
            faults_started.elapsed(),
            last_due.map(|t| clock.wall_until(t)),
            creator_calls()
        );
        if created && faults.len() == MIN_FAULTS {
            println!("{}", creator_calls());
        }
        let leader = cluster.agreed_leader(Duration::from_secs(30)).await.unwrap();
        let kind = match rng.below(20) {
            0..8 => FaultKind::Pause,
            8..15 => FaultKind::Kill,
            _ => FaultKind::QuickKill,
        };
        let down_since = Instant::now();
        match kind {
            FaultKind::Kill | FaultKind::QuickKill => cluster.nodes[leader].process.kill(),
            FaultKind::Pause => cluster.nodes[leader].process.pause(),
        }
        let min_down = match kind {
            FaultKind::QuickKill => rng.range(100, 400),
            FaultKind::Kill => rng.range(300, 1500),
            // Longer than the election timeout (600–1200 ms).
            FaultKind::Pause => rng.range(1300, 2500),
        };
        tokio::time::sleep(Duration::from_millis(min_down)).await;
        if kind != FaultKind::QuickKill {
            // The others elect a new leader before the old one comes back (if they can in 10 s).
            let _ = cluster.agreed_leader(Duration::from_secs(10)).await;
        }
        let down = down_since.elapsed();
        match kind {
            FaultKind::Kill | FaultKind::QuickKill => cluster.nodes[leader].process.start(),
            FaultKind::Pause => cluster.nodes[leader].process.resume(),
        }
        let new_leader = cluster.agreed_leader(Duration::from_secs(30)).await.unwrap();
        faults.push(Fault { kind, node: leader, down, new_leader });
        tokio::time::sleep(Duration::from_millis(rng.range(300, 1000))).await;
    }
    let fault_phase = faults_started.elapsed();
    stop.store(true, Ordering::SeqCst);
    for c in creators {
        c.await.unwrap();
    }
    encryptor.await.unwrap();
    watcher.await.unwrap();
    secret_reader.await.unwrap();
    secret_watcher.await.unwrap();
    let crashed = cluster.crashed();
    assert!(crashed.is_empty(), "{}", crashed.join("\n"));
    cluster.heal();
    cluster.wait_ready(Duration::from_secs(60)).await.unwrap();
    let leader = cluster.agreed_leader(Duration::from_secs(30)).await.unwrap();
    let lc = clients[leader].clone();
    let book = Arc::try_unwrap(book).unwrap().into_inner().unwrap();
    let mut failures = book.violations.clone();
    assert_eq!(book.deletion.len(), DELETION_KEYS, "{failures:#?}");
    assert_eq!(book.rotating.len(), ROTATING_KEYS, "{failures:#?}");
    assert_eq!(book.deleted_secrets.len(), DELETION_SECRETS, "{failures:#?}");
    assert_eq!(book.rotating_secrets.len(), ROTATING_SECRETS, "{failures:#?}");

    // The scheduler catches up: every deletion window has passed; each key goes within a few
    // ticks.
    let catch_up = Instant::now();
    let mut remaining: Vec<DeletionKey> = book.deletion.clone();
    while !remaining.is_empty() && catch_up.elapsed() < Duration::from_secs(20) {
        let mut still = Vec::new();
        for d in remaining {
            let r = must_answer(&lc, "DescribeKey", &[("KeyId", &d.key_id)]).await;
            if r.code() != Some(KEY_NOT_FOUND) {
                still.push(d);
            }
        }
        remaining = still;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for d in &remaining {
        failures.push(format!(
            "{} still present {:?} after its DeleteDate",
            d.key_id,
            catch_up.elapsed()
        ));
    }
    let mut remaining: Vec<DeletedSecret> = book.deleted_secrets.clone();
    while !remaining.is_empty() && catch_up.elapsed() < Duration::from_secs(20) {
        let mut still = Vec::new();
        for d in remaining {
            let r = must_answer(&lc, "DescribeSecret", &[("SecretName", &d.name)]).await;
            if r.code() != Some(SECRET_NOT_FOUND) {
                still.push(d);
            }
        }
        remaining = still;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for d in &remaining {
        failures.push(format!(
            "{} still present {:?} after its PlannedDeleteTime",
            d.name,
            catch_up.elapsed()
        ));
    }
    // The secrets left are the rotating ones, each with its interval.
    let rotating_secrets: BTreeMap<String, i64> =
        book.rotating_secrets.iter().map(|(s, d)| (s.clone(), *d as i64 * DAY_MS)).collect();
    let listed_secrets = list_secrets(&lc).await;
    if !listed_secrets.iter().eq(rotating_secrets.keys()) {
        failures.push(format!(
            "ListSecrets lists {} secrets, not the {} rotating ones: {listed_secrets:?}",
            listed_secrets.len(),
            rotating_secrets.len()
        ));
    }

    // Every key left, as DescribeKey shows it: rotating ones are subjects (including duplicates
    // made by retried CreateKeys); the rest are extra keys no scheduled work may touch.
    let listed = list_keys(&lc).await;
    let mine: BTreeSet<&str> = book.rotating.iter().map(|(k, _)| k.as_str()).collect();
    let mut rotating: BTreeMap<String, i64> = BTreeMap::new();
    let mut plain: BTreeSet<String> = BTreeSet::new();
    // Master keys CreateSecret made (the first secrets found the region without one).
    let mut default_keys = 0;
    for k in &listed {
        let r = must_answer(&lc, "DescribeKey", &[("KeyId", k)]).await;
        default_keys += usize::from(r.body["KeyMetadata"]["Description"] == DEFAULT_SECRETS_KEY);
        match interval_s(&r) {
            Some(s) if r.body["KeyMetadata"]["AutomaticRotation"] == "Enabled" => {
                rotating.insert(k.clone(), s * 1000);
            }
            _ => {
                plain.insert(k.clone());
            }
        }
    }
    for (k, days) in &book.rotating {
        match rotating.get(k) {
            Some(ms) if *ms == *days as i64 * DAY_MS => {}
            other => failures.push(format!("rotating key {k} ({days}d) is listed as {other:?}")),
        }
    }
    let extra_keys = listed.len() - mine.len() - default_keys;

    // Live: on every node, no NextRotationDate is overdue by more than the slack when read.
    let max_overdue = Arc::new(Mutex::new(i64::MIN));
    let items: Vec<(Client, String)> =
        clients.iter().flat_map(|c| rotating.keys().map(move |k| (c.clone(), k.clone()))).collect();
    let overdue = max_overdue.clone();
    failures.extend(
        check_all(items, 8, move |(c, k)| {
            let overdue = overdue.clone();
            async move {
                let asked = clock.now_ms();
                let r = must_answer(&c, "DescribeKey", &[("KeyId", &k)]).await;
                let Some(next) = date_field(&r, "NextRotationDate") else {
                    return Some(format!(
                        "{k} on {}: no NextRotationDate {:?}",
                        c.endpoint(),
                        r.body
                    ));
                };
                let late = asked - next;
                let mut o = overdue.lock().unwrap();
                *o = (*o).max(late);
                (late > clock.kms_duration(OVERDUE_SLACK)).then(|| {
                    format!(
                        "{k} on {}: NextRotationDate {next} overdue by {late} KMS ms ({:?} wall)",
                        c.endpoint(),
                        clock.wall_duration(late)
                    )
                })
            }
        })
        .await,
    );
    let max_overdue = *max_overdue.lock().unwrap();
    // The same for the rotating secrets (NextRotationDate one interval after the last rotation).
    let max_secret_overdue = Arc::new(Mutex::new(i64::MIN));
    let items: Vec<(Client, String)> = clients
        .iter()
        .flat_map(|c| rotating_secrets.keys().map(move |s| (c.clone(), s.clone())))
        .collect();
    let overdue = max_secret_overdue.clone();
    failures.extend(
        check_all(items, 8, move |(c, name)| {
            let overdue = overdue.clone();
            async move {
                let asked = clock.now_ms();
                let r = must_answer(&c, "DescribeSecret", &[("SecretName", &name)]).await;
                let Some(next) = r.str("NextRotationDate").and_then(parse_date_ms) else {
                    return Some(format!(
                        "{name} on {}: no NextRotationDate {:?}",
                        c.endpoint(),
                        r.body
                    ));
                };
                let late = asked - next;
                let mut o = overdue.lock().unwrap();
                *o = (*o).max(late);
                (late > clock.kms_duration(OVERDUE_SLACK)).then(|| {
                    format!(
                        "{name} on {}: NextRotationDate {next} overdue by {late} KMS ms ({:?} wall)",
                        c.endpoint(),
                        clock.wall_duration(late)
                    )
                })
            }
        })
        .await,
    );
    let max_secret_overdue = *max_secret_overdue.lock().unwrap();

    // Freeze the schedules so the cluster goes quiet and every replica ends on the same entry.
    let mut frozen = 0;
    for k in rotating.keys() {
        let params = [("KeyId", k.as_str()), ("EnableAutomaticRotation", "false")];
        let (r, _) = call_retrying(
            &clients,
            &mut rng,
            "UpdateRotationPolicy",
            &params,
            PER_ATTEMPT,
            GIVE_UP,
        )
        .await
        .unwrap();
        assert_eq!(r.status, 200, "UpdateRotationPolicy {k}: {:?}", r.body);
        frozen += 1;
    }
    for name in rotating_secrets.keys() {
        let params = [("SecretName", name.as_str()), ("EnableAutomaticRotation", "false")];
        let (r, _) = call_retrying(
            &clients,
            &mut rng,
            "UpdateSecretRotationPolicy",
            &params,
            PER_ATTEMPT,
            GIVE_UP,
        )
        .await
        .unwrap();
        assert_eq!(r.status, 200, "UpdateSecretRotationPolicy {name}: {:?}", r.body);
        frozen += 1;
    }
    tokio::time::sleep(Duration::from_millis(5 * TICK_MS)).await;
    for c in &clients {
        // A linearizable read: the node has applied everything committed so far.
        list_keys(c).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let Some(probe) = book.blobs.first().cloned() else { panic!("no ciphertexts") };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r =
            call_once(&worker, "Decrypt", &[("CiphertextBlob", &probe.blob)], PER_ATTEMPT).await;
        if r.answered().is_some_and(|r| r.status == 200) {
            break;
        }
        assert!(Instant::now() < deadline, "worker not serving: {r:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Static checks on every node and the worker.
    let per_endpoint: Arc<Mutex<KeyViews>> = Arc::default();
    for c in &endpoints {
        let purged: Vec<(Client, DeletionKey)> =
            book.deletion.iter().map(|d| (c.clone(), d.clone())).collect();
        failures.extend(
            check_all(purged, 8, |(c, d)| async move {
                let plain = [("KeyId", d.key_id.as_str()), ("Plaintext", "after purge")];
                for (action, params) in [
                    ("DescribeKey", vec![("KeyId", d.key_id.as_str())]),
                    ("Encrypt", plain.to_vec()),
                    ("Decrypt", vec![("CiphertextBlob", d.blob.as_str())]),
                ] {
                    let r = must_answer(&c, action, &params).await;
                    if (r.status, r.code()) != (404, Some(KEY_NOT_FOUND)) {
                        return Some(format!(
                            "{action} of purged {} on {}: {} {:?}",
                            d.key_id,
                            c.endpoint(),
                            r.status,
                            r.body
                        ));
                    }
                }
                None
            })
            .await,
        );
        let keys: Vec<(Client, String, i64)> =
            rotating.iter().map(|(k, i)| (c.clone(), k.clone(), *i)).collect();
        let seen = per_endpoint.clone();
        failures.extend(
            check_all(keys, 8, move |(c, k, interval)| {
                let seen = seen.clone();
                async move {
                    let r = must_answer(&c, "DescribeKey", &[("KeyId", &k)]).await;
                    let (Some(created), Some(last), Some(primary)) = (
                        date_field(&r, "CreationDate"),
                        date_field(&r, "LastRotationDate"),
                        r.body["KeyMetadata"]["PrimaryKeyVersion"].as_str(),
                    ) else {
                        return Some(format!("DescribeKey {k} on {}: {:?}", c.endpoint(), r.body));
                    };
                    let versions = match list_versions(&c, &k).await {
                        Ok(v) => v,
                        Err(e) => return Some(e),
                    };
                    seen.lock().unwrap().entry(c.endpoint().to_string()).or_default().insert(
                        k.clone(),
                        (created, last, versions.len(), primary.to_string()),
                    );
                    let since = last - created;
                    if since % interval != 0
                        || versions.len() as i64 != 1 + since / interval
                        || versions.last().map(String::as_str) != Some(primary)
                    {
                        return Some(format!(
                            "{k} on {}: created {created}, last rotation {last}, interval {interval} ms, {} versions, primary {primary}, listed {versions:?}",
                            c.endpoint(),
                            versions.len()
                        ));
                    }
                    None
                }
            })
            .await,
        );
        let blobs: Vec<(Client, Blob)> =
            book.blobs.iter().map(|b| (c.clone(), b.clone())).collect();
        failures.extend(
            check_all(blobs, 8, |(c, b)| async move {
                let r = must_answer(&c, "Decrypt", &[("CiphertextBlob", &b.blob)]).await;
                (r.status != 200
                    || r.str("Plaintext") != Some(b.plaintext.as_str())
                    || r.str("KeyVersionId") != Some(b.version_id.as_str()))
                .then(|| {
                    format!(
                        "Decrypt of {}/{} on {}: {:?}",
                        b.key_id,
                        b.version_id,
                        c.endpoint(),
                        r.body
                    )
                })
            })
            .await,
        );
    }
    let per_endpoint = Arc::try_unwrap(per_endpoint).unwrap().into_inner().unwrap();
    let views: Vec<_> = per_endpoint.values().collect();
    if views.windows(2).any(|w| w[0] != w[1]) || views.len() != endpoints.len() {
        failures.push(format!("endpoints disagree on the rotating keys: {per_endpoint:#?}"));
    }
    let primaries: BTreeSet<&str> =
        views.first().map(|v| v.values().map(|t| t.3.as_str()).collect()).unwrap_or_default();
    let old_version_blobs =
        book.blobs.iter().filter(|b| !primaries.contains(b.version_id.as_str())).count();
    let blob_versions: BTreeSet<&str> = book.blobs.iter().map(|b| b.version_id.as_str()).collect();

    // Secrets on every node and the worker (the last endpoint): the deleted ones are gone; every
    // rotating one has the same ACSCurrent everywhere; every value read during the run is still
    // its version's.
    let current_views: SecretViews<(String, String)> = Arc::default();
    let version_views: SecretViews<(u64, Option<i64>)> = Arc::default();
    let read_values: Vec<((String, String), String)> = book
        .secret_values
        .iter()
        .filter(|((name, _), _)| rotating_secrets.contains_key(name))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (e, c) in endpoints.iter().enumerate() {
        let on_worker = e == endpoints.len() - 1;
        let gone: Vec<(Client, String)> =
            book.deleted_secrets.iter().map(|d| (c.clone(), d.name.clone())).collect();
        failures.extend(
            check_all(gone, 8, move |(c, name)| async move {
                let actions: &[&str] = if on_worker {
                    &["GetSecretValue"]
                } else {
                    &["DescribeSecret", "GetSecretValue"]
                };
                for action in actions {
                    let r = must_answer(&c, action, &[("SecretName", &name)]).await;
                    if (r.status, r.code()) != (404, Some(SECRET_NOT_FOUND)) {
                        return Some(format!(
                            "{action} of purged {name} on {}: {} {:?}",
                            c.endpoint(),
                            r.status,
                            r.body
                        ));
                    }
                }
                None
            })
            .await,
        );
        let items: Vec<(Client, String)> =
            rotating_secrets.keys().map(|s| (c.clone(), s.clone())).collect();
        let (current, versions) = (current_views.clone(), version_views.clone());
        failures.extend(
            check_all(items, 8, move |(c, name)| {
                let (current, versions) = (current.clone(), versions.clone());
                async move {
                    let r = must_answer(&c, "GetSecretValue", &[("SecretName", &name)]).await;
                    let (200, Some(v), Some(data)) =
                        (r.status, r.str("VersionId"), r.str("SecretData"))
                    else {
                        return Some(format!(
                            "GetSecretValue {name} on {}: {} {:?}",
                            c.endpoint(),
                            r.status,
                            r.body
                        ));
                    };
                    current
                        .lock()
                        .unwrap()
                        .entry(c.endpoint().to_string())
                        .or_default()
                        .insert(name.clone(), (v.to_string(), data.to_string()));
                    if on_worker {
                        return None;
                    }
                    let params = [
                        ("SecretName", name.as_str()),
                        ("IncludeDeprecated", "true"),
                        ("PageSize", "1"),
                    ];
                    let listed = must_answer(&c, "ListSecretVersionIds", &params).await;
                    let described =
                        must_answer(&c, "DescribeSecret", &[("SecretName", &name)]).await;
                    let (200, 200, Some(total)) =
                        (listed.status, described.status, listed.body["TotalCount"].as_u64())
                    else {
                        return Some(format!(
                            "{name} on {}: ListSecretVersionIds {:?}, DescribeSecret {:?}",
                            c.endpoint(),
                            listed.body,
                            described.body
                        ));
                    };
                    let last = described.str("LastRotationDate").and_then(parse_date_ms);
                    versions
                        .lock()
                        .unwrap()
                        .entry(c.endpoint().to_string())
                        .or_default()
                        .insert(name, (total, last));
                    None
                }
            })
            .await,
        );
        let values: Vec<(Client, (String, String), String)> =
            read_values.iter().map(|(k, v)| (c.clone(), k.clone(), v.clone())).collect();
        failures.extend(
            check_all(values, 8, |(c, (name, version), value)| async move {
                let params = [("SecretName", name.as_str()), ("VersionId", version.as_str())];
                let r = must_answer(&c, "GetSecretValue", &params).await;
                (r.status != 200 || r.str("SecretData") != Some(value.as_str())).then(|| {
                    format!(
                        "GetSecretValue {name}/{version} on {}: {} {:?}, read as {value:?} during the run",
                        c.endpoint(),
                        r.status,
                        r.body
                    )
                })
            })
            .await,
        );
    }
    let current_views = Arc::try_unwrap(current_views).unwrap().into_inner().unwrap();
    let views: Vec<_> = current_views.values().collect();
    if views.windows(2).any(|w| w[0] != w[1]) || views.len() != endpoints.len() {
        failures.push(format!("endpoints disagree on ACSCurrent: {current_views:#?}"));
    }
    let version_views = Arc::try_unwrap(version_views).unwrap().into_inner().unwrap();
    let views: Vec<_> = version_views.values().collect();
    if views.windows(2).any(|w| w[0] != w[1]) || views.len() != clients.len() {
        failures.push(format!("nodes disagree on the secret versions: {version_views:#?}"));
    }
    let listed_versions = views.first().cloned().cloned().unwrap_or_default();

    // The stores of the stopped nodes.
    let crashed = cluster.crashed();
    assert!(crashed.is_empty(), "{}", crashed.join("\n"));
    cluster.stop_all();
    let mut trails = Vec::new();
    let mut digests = Vec::new();
    let mut stored_keys = Vec::new();
    let mut stored_secrets = Vec::new();
    for n in &cluster.nodes {
        let (_, _, reader) = yaoshi_store::open_region(&n.region_dir(REGION)).unwrap();
        trails.push(reader.audit_events().unwrap());
        digests.push(reader.digest().unwrap());
        let keys: BTreeMap<String, (yaoshi_model::KeyMetadata, usize)> = reader
            .keys_with_versions()
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k.key_id.as_str().to_string(), (k, v.len())))
            .collect();
        stored_keys.push(keys);
        let secrets: BTreeMap<String, (yaoshi_model::SecretMetadata, usize)> = reader
            .secrets_with_versions()
            .unwrap()
            .into_iter()
            .map(|(s, v)| (s.name.clone(), (s, v.len())))
            .collect();
        stored_secrets.push(secrets);
    }
    for i in 1..trails.len() {
        if trails[i] != trails[0] {
            let first = trails[0].iter().zip(&trails[i]).position(|(a, b)| a != b);
            failures.push(format!(
                "audit trails of node1 ({} events) and node{} ({} events) differ, first at {first:?}: {:?} vs {:?}",
                trails[0].len(),
                i + 1,
                trails[i].len(),
                first.map(|f| &trails[0][f]),
                first.map(|f| &trails[i][f]),
            ));
        }
        if digests[i] != digests[0] {
            failures.push(format!(
                "state digests differ: node1 {:?} node{} {:?}",
                digests[0],
                i + 1,
                digests[i]
            ));
        }
        if stored_keys[i].keys().ne(stored_keys[0].keys()) {
            failures.push(format!("node{} stores other keys than node1", i + 1));
        }
        if stored_secrets[i].keys().ne(stored_secrets[0].keys()) {
            failures.push(format!("node{} stores other secrets than node1", i + 1));
        }
    }
    let trail = read_trail(&trails[0]);
    failures.extend(trail.other_outcomes.iter().cloned());
    if trail.other_scheduled > 0 {
        failures.push(format!(
            "{} unexpected ExpireKeyMaterial/PurgeImportTokens/FinishSecretRotation",
            trail.other_scheduled
        ));
    }
    let (mut duplicates, mut misses, mut purges, mut rotations, mut implied_rotations) =
        (0, 0, 0, 0, 0);
    for d in &book.deletion {
        let at = trail.purges.get(&d.key_id).cloned().unwrap_or_default();
        purges += at.len();
        duplicates += at.len().saturating_sub(1);
        misses += usize::from(at.is_empty());
        let due = trail.scheduled_at.get(&d.key_id).map(|s| s + d.window_days as i64 * DAY_MS);
        for t in &at {
            if due.is_none_or(|due| *t < due) || d.delete_date_ms.is_some_and(|dd| *t < dd) {
                failures.push(format!(
                    "{} purged at {t}, DeleteDate {due:?}/{:?}",
                    d.key_id, d.delete_date_ms
                ));
            }
        }
        if stored_keys.iter().any(|s| s.contains_key(&d.key_id)) {
            failures.push(format!("{} still in a store", d.key_id));
        }
    }
    let slack = clock.kms_duration(OVERDUE_SLACK);
    for (k, interval) in &rotating {
        let Some((meta, versions)) = stored_keys[0].get(k) else {
            failures.push(format!("rotating key {k} not in the store"));
            continue;
        };
        let at = trail.rotations.get(k).cloned().unwrap_or_default();
        rotations += at.len();
        let since = meta.last_rotation_ms - meta.creation_ms;
        if since % interval != 0 {
            failures
                .push(format!("{k}: LastRotationDate {} off its schedule", meta.last_rotation_ms));
        }
        let implied = (since / interval) as usize;
        implied_rotations += implied;
        duplicates += at.len().saturating_sub(implied);
        misses += implied.saturating_sub(at.len());
        if *versions != at.len() + 1 {
            failures.push(format!("{k}: {versions} versions but {} applied RotateKey", at.len()));
        }
        // Slots due (beyond the slack) before the schedule was frozen must all have run.
        if let Some(frozen_at) = trail.policy_at.get(k) {
            let due_slots = ((frozen_at - slack - meta.creation_ms).max(0) / interval) as usize;
            misses += due_slots.saturating_sub(implied);
        } else {
            failures.push(format!("{k}: no UpdateRotationPolicy in the trail"));
        }
        for (i, t) in at.iter().enumerate() {
            if *t < meta.creation_ms + (i as i64 + 1) * interval {
                failures.push(format!("{k}: rotation {} at {t}, before its slot", i + 1));
            }
        }
    }
    let subjects: BTreeSet<&str> = book
        .deletion
        .iter()
        .map(|d| d.key_id.as_str())
        .chain(rotating.keys().map(String::as_str))
        .collect();
    for k in trail.purges.keys().chain(trail.rotations.keys()) {
        if !subjects.contains(k.as_str()) {
            failures.push(format!("scheduled work applied to {k}, which is not a subject"));
        }
    }
    for k in &plain {
        if trail.rotations.contains_key(k) || trail.purges.contains_key(k) {
            failures.push(format!("plain key {k} was rotated or purged"));
        }
    }
    if trail.created.len() + default_keys != book.deletion.len() + listed.len() {
        failures.push(format!(
            "{} keys created (+ {default_keys} by CreateSecret), {} purged + {} listed",
            trail.created.len(),
            book.deletion.len(),
            listed.len()
        ));
    }

    // Secrets: one applied PurgeSecret per deleted secret, at or after its PlannedDeleteTime; per
    // rotating secret one applied AutoRotateSecret per version beyond the first, each at least one
    // interval after the previous one (or the creation); none for any other secret.
    let (mut secret_duplicates, mut secret_misses, mut secret_purges, mut secret_rotations) =
        (0, 0, 0, 0);
    let mut longest_rotation_delay = 0i64;
    let deleted_names: BTreeSet<&str> =
        book.deleted_secrets.iter().map(|d| d.name.as_str()).collect();
    for d in &book.deleted_secrets {
        let at = trail.secret_purges.get(&d.name).cloned().unwrap_or_default();
        secret_purges += at.len();
        secret_duplicates += at.len().saturating_sub(1);
        secret_misses += usize::from(at.is_empty());
        let due = trail.secret_deleted_at.get(&d.name).map(|s| s + d.window_days as i64 * DAY_MS);
        for t in &at {
            if due.is_none_or(|due| *t < due) || d.planned_ms.is_some_and(|p| *t < p) {
                failures.push(format!(
                    "{} purged at {t}, PlannedDeleteTime {due:?}/{:?}",
                    d.name, d.planned_ms
                ));
            }
        }
        if stored_secrets.iter().any(|s| s.contains_key(&d.name)) {
            failures.push(format!("{} still in a store", d.name));
        }
    }
    for (name, interval) in &rotating_secrets {
        let Some((meta, versions)) = stored_secrets[0].get(name) else {
            failures.push(format!("rotating secret {name} not in the store"));
            continue;
        };
        let at = trail.secret_rotations.get(name).cloned().unwrap_or_default();
        secret_rotations += at.len();
        let listed = listed_versions.get(name).map(|(total, _)| *total as usize);
        if *versions != at.len() + 1 || listed != Some(at.len() + 1) {
            failures.push(format!(
                "{name}: {versions} versions stored, {listed:?} listed, but {} applied AutoRotateSecret",
                at.len()
            ));
        }
        if meta.last_rotation_ms != at.last().copied() {
            failures.push(format!(
                "{name}: LastRotationDate {:?} but applied rotations at {at:?}",
                meta.last_rotation_ms
            ));
        }
        let mut due = meta.creation_ms + interval;
        for (i, t) in at.iter().enumerate() {
            if *t < due {
                secret_duplicates += 1;
                failures.push(format!(
                    "{name}: rotation {} at {t}, before {due} (one interval after the last)",
                    i + 1
                ));
            }
            longest_rotation_delay = longest_rotation_delay.max(t - due);
            due = t + interval;
        }
        // A rotation due (beyond the slack) before the schedule was frozen must have run.
        match trail.secret_policy_at.get(name) {
            Some(frozen_at) => secret_misses += usize::from(frozen_at - slack > due),
            None => failures.push(format!("{name}: no UpdateSecretRotationPolicy in the trail")),
        }
    }
    for s in trail.secret_purges.keys() {
        if !deleted_names.contains(s.as_str()) {
            failures.push(format!("PurgeSecret applied to {s}, which was not deleted"));
        }
    }
    for s in trail.secret_rotations.keys() {
        if !rotating_secrets.contains_key(s) {
            failures.push(format!("AutoRotateSecret applied to {s}, which does not rotate"));
        }
    }
    if trail.secrets_created.len() != DELETION_SECRETS + ROTATING_SECRETS
        || trail.secrets_created.values().any(|n| *n != 1)
    {
        failures.push(format!("applied CreateSecret: {:?}", trail.secrets_created));
    }

    let count = |k: FaultKind| faults.iter().filter(|f| f.kind == k).count();
    let (kills, quick_kills, pauses) =
        (count(FaultKind::Kill), count(FaultKind::QuickKill), count(FaultKind::Pause));
    let leader_changes = faults.iter().filter(|f| f.new_leader != f.node).count();
    let max_down = faults.iter().map(|f| f.down).max().unwrap_or_default();
    println!("scheduler chaos figures (seed {seed}, scale {SCALE}, tick {TICK_MS} ms):");
    println!(
        "  keys: {} created ({} scheduled for deletion with 7-30 day windows, {} rotating every 7-14 days; {} extra from {} retried CreateKeys)",
        trail.created.len(),
        book.deletion.len(),
        rotating.len(),
        extra_keys,
        book.retried_creates
    );
    println!(
        "  faults on the leader: {} ({} SIGKILL+restart, {quick_kills} of them restarted before an election; {pauses} SIGSTOP/SIGCONT), {leader_changes} failovers, longest outage {max_down:?}, over {fault_phase:?}",
        faults.len(),
        kills + quick_kills
    );
    println!(
        "  purges applied: {purges} (scheduled keys: {}); rotations applied: {rotations} (implied by the schedules: {implied_rotations})",
        book.deletion.len()
    );
    println!(
        "  stale scheduled commands refused as no-ops: {} PurgeKey, {} RotateKey",
        trail.purge_noops, trail.rotate_noops
    );
    println!("  duplicates: {duplicates}, misses: {misses}");
    println!(
        "  secrets: {} created ({} deleted with 7-30 day recovery windows, {} rotating every 7-14 days; {} CreateSecrets retried, {} retries refused because an earlier attempt applied), {default_keys} default master key(s) made by CreateSecret",
        trail.secrets_created.len(),
        book.deleted_secrets.len(),
        rotating_secrets.len(),
        book.retried_secret_creates,
        book.secret_retries_refused
    );
    println!(
        "  secret purges applied: {secret_purges} (deleted secrets: {}); secret rotations applied: {secret_rotations} (versions listed beyond the first: {}); longest rotation delay past NextRotationDate {:?} wall",
        book.deleted_secrets.len(),
        listed_versions.values().map(|(t, _)| *t as usize - 1).sum::<usize>(),
        clock.wall_duration(longest_rotation_delay)
    );
    println!(
        "  stale scheduled commands refused as no-ops: {} PurgeSecret, {} AutoRotateSecret",
        trail.secret_purge_noops, trail.secret_rotate_noops
    );
    println!("  secret duplicates: {secret_duplicates}, secret misses: {secret_misses}");
    println!(
        "  secret reads: {} ACSCurrent values ({} through the worker), {} versions' values checked on {} nodes and the worker; {} refused by a lagging replica, {} found no live endpoint; {} early-purge checks; NextRotationDate when read on every node: {}",
        book.secret_reads,
        book.worker_secret_reads,
        read_values.len(),
        clients.len(),
        book.lagging_secret_reads,
        book.unavailable_secret_reads,
        book.early_secret_purge_checks,
        if max_secret_overdue > 0 {
            format!("at most {:?} overdue", clock.wall_duration(max_secret_overdue))
        } else {
            "never overdue".to_string()
        },
    );
    println!(
        "  ciphertexts: {} under {} versions ({} under versions no longer primary), each decrypted on {} nodes and the worker; {} early-purge checks; {} encrypts refused by a lagging replica, {} found no live endpoint",
        book.blobs.len(),
        blob_versions.len(),
        old_version_blobs,
        clients.len(),
        book.early_purge_checks,
        book.lagging_encrypts,
        book.unavailable_encrypts
    );
    println!(
        "  audit events: {} per node; NextRotationDate when read on every node: {} (allowed: {OVERDUE_SLACK:?} overdue); {frozen} schedules frozen at the end",
        trails[0].len(),
        if max_overdue > 0 {
            format!("at most {:?} overdue", clock.wall_duration(max_overdue))
        } else {
            "never overdue".to_string()
        },
    );
    println!("{}", creator_calls());
    println!(
        "  run time: {:?} (subjects created in {:?} of the fault phase); logs in {}",
        started.elapsed(),
        created_in.unwrap_or_default(),
        dir.display()
    );
    for f in &faults {
        println!(
            "    fault {:?} on node{} for {:?}, then leader node{}",
            f.kind,
            f.node + 1,
            f.down,
            f.new_leader + 1
        );
    }
    assert!(faults.len() >= MIN_FAULTS);
    assert!(kills + quick_kills > 0 && pauses > 0);
    assert!(
        failures.is_empty(),
        "{} failures (logs in {}):\n{}",
        failures.len(),
        dir.display(),
        failures.join("\n")
    );
    assert!(leader_changes >= MIN_LEADER_CHANGES, "{leader_changes} leader changes");
    assert_eq!((duplicates, misses), (0, 0));
    assert_eq!(purges, DELETION_KEYS);
    assert_eq!((secret_duplicates, secret_misses), (0, 0));
    assert_eq!(secret_purges, DELETION_SECRETS);
}
