//! Test support (cargo feature `test-support`): [`TempPostgres`], a throwaway PostgreSQL server
//! on loopback, and [`rotate_single_user_verifying_with`], a rotation whose verify step can be
//! made to fail for real.
//!
//! Use it from another crate's tests with a dev-dependency
//! `yaoshi-rotation = { workspace = true, features = ["test-support"] }`, then:
//!
//! ```no_run
//! # async fn example() {
//! use yaoshi_rotation::testing::TempPostgres;
//! let Some(pg) = TempPostgres::start_or_skip() else { return }; // prints "SKIPPED: …"
//! pg.create_role("app", "old password").unwrap();
//! let target = yaoshi_rotation::PgTarget::parse(&pg.target()).unwrap();
//! assert!(yaoshi_rotation::can_login(&target, "app", "old password").await.unwrap());
//! # }
//! ```
//!
//! The server binaries are Debian's (`/usr/lib/postgresql/<major>/bin`, the newest major
//! installed; `.ci/setup` installs them) or those in `$YAOSHI_PG_BIN`. `initdb` makes a fresh
//! cluster in a new directory under the system temporary directory, with `trust` for its Unix
//! socket (used by [`TempPostgres::sql`] as the superuser) and `scram-sha-256` for TCP (used by
//! everything under test). PostgreSQL refuses to run as root, so as root both run as the
//! `postgres` system user (`setpriv`), the directory chowned to it (the temporary directory must
//! then be reachable by that user, as `/tmp` is). Drop stops the server (fast shutdown, then
//! SIGKILL after 10 s) and removes the directory.
//!
//! When PostgreSQL is not installed or cannot start, [`TempPostgres::start`] returns a [`Skip`]
//! rather than panicking; [`TempPostgres::start_or_skip`] prints it as a `SKIPPED:` line, unless
//! `YAOSHI_REQUIRE_POSTGRES=1`, where it panics (for CI runs that must not skip).

use std::fmt;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::rotate::{quote_ident, rotate_verifying_with};
use crate::{PgTarget, RotationError};

/// The bootstrap superuser of every [`TempPostgres`] (reachable only over its Unix socket).
pub const SUPERUSER: &str = "yaoshi_admin";

/// The database [`TempPostgres::target`] names.
pub const DATABASE: &str = "postgres";

/// How long [`TempPostgres::start`] waits for the server to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How long Drop waits for a fast shutdown before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why no [`TempPostgres`] could be started (PostgreSQL missing, or failing to start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip(pub String);

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no temporary PostgreSQL: {}", self.0)
    }
}

/// A PostgreSQL server of its own on `127.0.0.1:<free port>`, in a temporary directory, stopped
/// and removed on drop.
#[derive(Debug)]
pub struct TempPostgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    child: Child,
}

/// The user the server runs as, when the test runs as root.
#[derive(Debug, Clone)]
struct RunAs {
    uid: u32,
    gid: u32,
}

impl TempPostgres {
    /// Runs `initdb` into a new temporary directory and starts `postgres` on a free loopback
    /// port, waiting until it accepts connections; [`Skip`] when PostgreSQL is not installed or
    /// does not start (with its output).
    pub fn start() -> Result<TempPostgres, Skip> {
        let bin = find_bin_dir()?;
        let run_as = if is_root() { Some(postgres_user()?) } else { None };
        let dir = make_dir(run_as.as_ref())?;
        // From here on, a failure removes the directory.
        match Self::init_and_start(&bin, &dir, run_as.as_ref()) {
            Ok((port, child)) => Ok(TempPostgres { dir, bin, port, child }),
            Err(skip) => {
                let _ = fs::remove_dir_all(&dir);
                Err(skip)
            }
        }
    }

    /// [`start`](Self::start), printing `SKIPPED: <reason>` to stderr and returning `None` when
    /// it cannot; panics instead when the environment has `YAOSHI_REQUIRE_POSTGRES=1`.
    pub fn start_or_skip() -> Option<TempPostgres> {
        match Self::start() {
            Ok(pg) => Some(pg),
            Err(skip) if std::env::var("YAOSHI_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") => {
                panic!("YAOSHI_REQUIRE_POSTGRES=1, but {skip}")
            }
            Err(skip) => {
                eprintln!("SKIPPED: {skip}");
                None
            }
        }
    }

    fn init_and_start(
        bin: &Path,
        dir: &Path,
        run_as: Option<&RunAs>,
    ) -> Result<(u16, Child), Skip> {
        let data = dir.join("data");
        let out = command(bin, "initdb", run_as)
            .current_dir(dir)
            .arg("-D")
            .arg(&data)
            .args(["-U", SUPERUSER, "--auth-local=trust", "--auth-host=scram-sha-256"])
            .args(["-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Skip(format!("cannot run {}: {e}", bin.join("initdb").display())))?;
        if !out.status.success() {
            return Err(Skip(format!(
                "initdb failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        // A free port can be taken by someone else before the server binds it: try a few.
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port().map_err(|e| Skip(format!("no free loopback port: {e}")))?;
            match start_server(bin, dir, &data, port, run_as) {
                Ok(child) => return Ok((port, child)),
                Err(StartError::PortTaken(log)) => last = log,
                Err(StartError::Other(skip)) => return Err(skip),
            }
        }
        Err(Skip(format!("postgres could not bind a loopback port three times: {last}")))
    }

    /// The address for [`PgTarget::parse`]: `127.0.0.1:<port>/postgres`.
    pub fn target(&self) -> String {
        format!("127.0.0.1:{}/{DATABASE}", self.port)
    }

    /// [`target`](Self::target), parsed.
    pub fn pg_target(&self) -> PgTarget {
        PgTarget::parse(&self.target()).expect("TempPostgres target parses")
    }

    /// The server's TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding the cluster (`data/`), the Unix socket and `postgres.log`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates a role that can log in over TCP with `password` (`CREATE ROLE … LOGIN PASSWORD`,
    /// the password sent as a SCRAM-SHA-256 verifier). `name` is quoted, so any name works.
    pub fn create_role(&self, name: &str, password: &str) -> Result<(), String> {
        let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
        self.sql(&format!("CREATE ROLE {} LOGIN PASSWORD '{verifier}'", quote_ident(name)))
            .map(drop)
    }

    /// Runs `sql` as the superuser with `psql` over the Unix socket; its output, unaligned and
    /// without headers (one line per row, columns separated by `|`), or psql's error text.
    pub fn sql(&self, sql: &str) -> Result<String, String> {
        let out = Command::new(self.bin.join("psql"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.dir)
            .args(["-p", &self.port.to_string(), "-U", SUPERUSER, "-d", DATABASE, "-c", sql])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(format!(
                "psql failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        // SIGINT is PostgreSQL's fast shutdown: it ends the sessions and releases shared memory.
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                _ => break,
            }
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// [`rotate_single_user`](crate::rotate_single_user) whose verify step logs in with
/// `verify_password` instead of `new`: with a wrong `verify_password` the verification fails
/// against the real server and the roll back runs for real.
pub async fn rotate_single_user_verifying_with(
    target: &PgTarget,
    account: &str,
    current: &str,
    new: &str,
    verify_password: &str,
) -> Result<(), RotationError> {
    rotate_verifying_with(target, account, current, new, verify_password).await
}

enum StartError {
    PortTaken(String),
    Other(Skip),
}

fn start_server(
    bin: &Path,
    dir: &Path,
    data: &Path,
    port: u16,
    run_as: Option<&RunAs>,
) -> Result<Child, StartError> {
    let log_path = dir.join("postgres.log");
    let log = File::create(&log_path).map_err(|e| {
        StartError::Other(Skip(format!("cannot create {}: {e}", log_path.display())))
    })?;
    let log_err = log
        .try_clone()
        .map_err(|e| StartError::Other(Skip(format!("cannot duplicate the log file: {e}"))))?;
    let mut child = command(bin, "postgres", run_as)
        .current_dir(dir)
        .arg("-D")
        .arg(data)
        .args(["-p", &port.to_string()])
        .args(["-c", "listen_addresses=127.0.0.1"])
        .arg("-c")
        .arg(format!("unix_socket_directories={}", dir.display()))
        .args(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
        .args(["-c", "shared_buffers=16MB", "-c", "max_connections=30"])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| {
            StartError::Other(Skip(format!("cannot run {}: {e}", bin.join("postgres").display())))
        })?;
    let pid_file = data.join("postmaster.pid");
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            let log = log.trim();
            return Err(if log.contains("could not bind") || log.contains("already in use") {
                StartError::PortTaken(log.to_string())
            } else {
                StartError::Other(Skip(format!("postgres exited ({status}): {log}")))
            });
        }
        // The 8th line of postmaster.pid is the server's status, "ready" once it accepts
        // connections.
        let ready = fs::read_to_string(&pid_file)
            .is_ok_and(|s| s.lines().nth(7).is_some_and(|l| l.trim() == "ready"));
        if ready {
            return Ok(child);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            return Err(StartError::Other(Skip(format!(
                "postgres not ready within {} s: {}",
                START_TIMEOUT.as_secs(),
                log.trim()
            ))));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `bin/<program>`, run as `run_as` through `setpriv` when given.
fn command(bin: &Path, program: &str, run_as: Option<&RunAs>) -> Command {
    let path = bin.join(program);
    match run_as {
        None => Command::new(path),
        Some(user) => {
            let mut c = Command::new("setpriv");
            c.arg(format!("--reuid={}", user.uid))
                .arg(format!("--regid={}", user.gid))
                .arg("--clear-groups")
                .arg("--")
                .arg(path);
            c
        }
    }
}

/// `$YAOSHI_PG_BIN`, else the newest `/usr/lib/postgresql/<major>/bin` holding the server.
fn find_bin_dir() -> Result<PathBuf, Skip> {
    let has_server = |d: &Path| ["initdb", "postgres", "psql"].iter().all(|p| d.join(p).is_file());
    if let Some(dir) = std::env::var_os("YAOSHI_PG_BIN") {
        let dir = PathBuf::from(dir);
        return if has_server(&dir) {
            Ok(dir)
        } else {
            Err(Skip(format!("YAOSHI_PG_BIN={} lacks initdb, postgres or psql", dir.display())))
        };
    }
    let root = Path::new("/usr/lib/postgresql");
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_server(&bin).then_some((major, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).ok_or_else(|| {
        Skip(
            "PostgreSQL server not installed (no /usr/lib/postgresql/<major>/bin with initdb, \
             postgres and psql; .ci/setup installs it, or set YAOSHI_PG_BIN)"
                .into(),
        )
    })
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .is_some_and(|euid| euid == "0")
    })
}

/// The `postgres` system user (created by Debian's postgresql-common), from `/etc/passwd`.
fn postgres_user() -> Result<RunAs, Skip> {
    let passwd = fs::read_to_string("/etc/passwd")
        .map_err(|e| Skip(format!("running as root and cannot read /etc/passwd: {e}")))?;
    for line in passwd.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() >= 4
            && fields[0] == "postgres"
            && let (Ok(uid), Ok(gid)) = (fields[2].parse(), fields[3].parse())
        {
            return Ok(RunAs { uid, gid });
        }
    }
    Err(Skip("running as root (PostgreSQL refuses to) and there is no postgres user".into()))
}

/// A new, empty directory under the system temporary directory, owned by `run_as` if given.
fn make_dir(run_as: Option<&RunAs>) -> Result<PathBuf, Skip> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("yaoshi-pg-{}-{n}-{nanos:x}", std::process::id()));
    fs::create_dir(&dir).map_err(|e| Skip(format!("cannot create {}: {e}", dir.display())))?;
    if let Some(user) = run_as
        && let Err(e) = std::os::unix::fs::chown(&dir, Some(user.uid), Some(user.gid))
    {
        let _ = fs::remove_dir_all(&dir);
        return Err(Skip(format!("cannot chown {} to postgres: {e}", dir.display())));
    }
    Ok(dir)
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
