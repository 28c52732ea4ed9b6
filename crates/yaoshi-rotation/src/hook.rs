//! The rotation hook: an operator's program that gives a Generic secret its next value, instead
//! of the random password rotation uses otherwise (`yaoshi serve --secret-rotation-hook PATH`).
//!
//! The program runs without a shell, with two variables added to the node's environment:
//! `YAOSHI_SECRET_NAME` and `YAOSHI_SECRET_VERSION_ID` (the version being made). It reads the
//! current value (ACSCurrent) on standard input and writes the next value on standard output; one
//! trailing newline is dropped, so `echo`/`printf '%s\n'` work. It must exit 0 within the timeout
//! and print 1 byte to 64 KiB; anything else fails the rotation (the scheduler tries again on its
//! next tick, RotateSecret answers 503). Its standard error goes to the node's log stream, so a
//! hook must never print a value there.
//!
//! A hook may run more than once for one rotation (a leader that loses its leadership between the
//! hook and the commit; a retried RotateSecret): the rotation itself still applies exactly once,
//! by the command's precondition, and the value of the run that committed is the one kept.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zeroize::Zeroizing;

/// The most a hook may print: the largest secret value.
pub const MAX_HOOK_OUTPUT: usize = 64 * 1024;

/// Why a hook gave no value. The texts never hold a value.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The program could not be started.
    #[error("rotation hook {program} did not start: {reason}")]
    Spawn {
        /// The program's path.
        program: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The program did not exit 0.
    #[error("rotation hook exited with {status}")]
    Failed {
        /// The exit status as the OS reports it.
        status: String,
    },
    /// The program ran past the timeout (it was killed).
    #[error("rotation hook timed out after {0:?}")]
    Timeout(Duration),
    /// The program printed nothing (after dropping a trailing newline).
    #[error("rotation hook printed no value")]
    Empty,
    /// The program printed more than [`MAX_HOOK_OUTPUT`] bytes.
    #[error("rotation hook printed more than {MAX_HOOK_OUTPUT} bytes")]
    TooLarge,
    /// Reading the program's output failed.
    #[error("rotation hook output: {0}")]
    Io(String),
}

/// A configured rotation hook.
#[derive(Debug, Clone)]
pub struct RotationHook {
    program: PathBuf,
    timeout: Duration,
}

impl RotationHook {
    /// Default time a hook may take.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// The hook `program`, killed after `timeout`.
    pub fn new(program: impl Into<PathBuf>, timeout: Duration) -> RotationHook {
        RotationHook { program: program.into(), timeout }
    }

    /// The program's path.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// Runs the hook for the rotation of `secret_name` to `version_id` from the value `current`:
    /// the next value.
    pub async fn next_value(
        &self,
        secret_name: &str,
        version_id: &str,
        current: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, HookError> {
        let mut child = tokio::process::Command::new(&self.program)
            .env("YAOSHI_SECRET_NAME", secret_name)
            .env("YAOSHI_SECRET_VERSION_ID", version_id)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| HookError::Spawn {
                program: self.program.display().to_string(),
                reason: e.to_string(),
            })?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let current = Zeroizing::new(current.to_vec());
        let run = async {
            // A hook that ignores its input may exit before reading it: a broken pipe is fine.
            let write = async {
                let _ = stdin.write_all(&current).await;
                drop(stdin);
            };
            let read = async {
                let mut out = Zeroizing::new(Vec::new());
                let mut limited = (&mut stdout).take(MAX_HOOK_OUTPUT as u64 + 2);
                limited.read_to_end(&mut out).await.map(|_| out)
            };
            let ((), out) = tokio::join!(write, read);
            let out = out.map_err(|e| HookError::Io(e.to_string()))?;
            if out.len() > MAX_HOOK_OUTPUT + 1 {
                // Still printing: dropping the child kills it.
                return Err(HookError::TooLarge);
            }
            let status = child.wait().await.map_err(|e| HookError::Io(e.to_string()))?;
            Ok::<_, HookError>((status, out))
        };
        let (status, mut out) = match tokio::time::timeout(self.timeout, run).await {
            Ok(outcome) => outcome?,
            // Dropping `run` drops the child, which kills it (kill_on_drop).
            Err(_) => return Err(HookError::Timeout(self.timeout)),
        };
        if !status.success() {
            return Err(HookError::Failed { status: status.to_string() });
        }
        if out.last() == Some(&b'\n') {
            out.pop();
        }
        if out.len() > MAX_HOOK_OUTPUT {
            return Err(HookError::TooLarge);
        }
        if out.is_empty() {
            return Err(HookError::Empty);
        }
        Ok(out)
    }
}
