//! One child process: started, SIGKILLed, paused (SIGSTOP), resumed (SIGCONT) and restarted with
//! the same arguments, its pid and resident memory readable. Its stderr (the `tracing` log) —
//! and, with [`Process::with_stdout_logged`], its stdout — is appended to one file across
//! restarts, after a marker line per incarnation, so the whole history of a node stays available
//! for diagnosis and the current incarnation's part can be read alone.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

use anyhow::Context;

/// A child process that can be killed, paused and restarted; killed on drop.
#[derive(Debug)]
pub struct Process {
    name: String,
    program: PathBuf,
    /// A command the program is run through (e.g. `ip netns exec <ns>`); empty: run directly.
    prefix: Vec<String>,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    log_path: PathBuf,
    /// Whether stdout goes to the log too (else to /dev/null).
    log_stdout: bool,
    /// A file the program reads as standard input (else /dev/null).
    stdin: Option<PathBuf>,
    child: Option<Child>,
    paused: bool,
    /// Length of the log file when the current incarnation started.
    log_offset: u64,
    starts: u32,
}

impl Process {
    /// A process description; nothing runs until [`Process::start`].
    pub fn new(
        name: &str,
        program: &Path,
        args: Vec<String>,
        envs: Vec<(String, String)>,
        log_path: &Path,
    ) -> Process {
        Process {
            name: name.to_string(),
            program: program.to_path_buf(),
            prefix: Vec::new(),
            args,
            envs,
            log_path: log_path.to_path_buf(),
            log_stdout: false,
            stdin: None,
            child: None,
            paused: false,
            log_offset: 0,
            starts: 0,
        }
    }

    /// Runs the program through `prefix` (`prefix[0] prefix[1..] program args...`), e.g.
    /// `ip netns exec <ns>`. The prefix must exec the program in its own process, so the pid, the
    /// signals and the exit status are the program's.
    pub fn with_prefix(mut self, prefix: Vec<String>) -> Process {
        self.prefix = prefix;
        self
    }

    /// Adds environment variables (after the ones given at creation).
    pub fn with_envs(mut self, envs: Vec<(String, String)>) -> Process {
        self.envs.extend(envs);
        self
    }

    /// Gives the program `path` as standard input (each start reads it from the beginning).
    pub fn with_stdin_file(mut self, path: &Path) -> Process {
        self.stdin = Some(path.to_path_buf());
        self
    }

    /// Appends stdout to the log as well (by default it is discarded: `yaoshi serve` prints a
    /// generated bootstrap credential there, which tests check never reaches a log).
    pub fn with_stdout_logged(mut self) -> Process {
        self.log_stdout = true;
        self
    }

    /// The name given at creation (e.g. `node2`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The log file (stderr of every incarnation, appended).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// How many times the process was started.
    pub fn starts(&self) -> u32 {
        self.starts
    }

    /// Starts the process (again). A marker line separates incarnations in the log.
    ///
    /// # Panics
    ///
    /// Panics when it is already running or cannot be spawned.
    pub fn start(&mut self) {
        if let Err(e) = self.try_start() {
            panic!("{e:#}");
        }
    }

    /// [`Process::start`], returning the failure to open the log or spawn the program.
    ///
    /// # Errors
    ///
    /// The log cannot be opened or the program cannot be spawned.
    ///
    /// # Panics
    ///
    /// Panics when it is already running.
    pub fn try_start(&mut self) -> anyhow::Result<()> {
        assert!(self.child.is_none(), "{} is already running", self.name);
        use std::io::Write;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .with_context(|| format!("opening {}", self.log_path.display()))?;
        self.starts += 1;
        let _ = writeln!(log, "=== yaoshi-testkit: start #{} of {} ===", self.starts, self.name);
        self.log_offset = log.metadata().map(|m| m.len()).unwrap_or(0);
        let stdout = if self.log_stdout {
            Stdio::from(log.try_clone().with_context(|| format!("{}", self.log_path.display()))?)
        } else {
            Stdio::null()
        };
        let mut cmd = match self.prefix.split_first() {
            Some((wrapper, rest)) => {
                let mut c = Command::new(wrapper);
                c.args(rest).arg(&self.program);
                c
            }
            None => Command::new(&self.program),
        };
        let child = cmd
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(match &self.stdin {
                Some(path) => Stdio::from(std::fs::File::open(path)?),
                None => Stdio::null(),
            })
            .stdout(stdout)
            .stderr(log)
            .spawn()
            .with_context(|| {
                format!("spawning {} (prefix {:?})", self.program.display(), self.prefix)
            })?;
        self.child = Some(child);
        self.paused = false;
        Ok(())
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether a process was started and not killed since (it may be paused, or have died on its
    /// own: see [`Process::exited`]).
    pub fn is_started(&self) -> bool {
        self.child.is_some()
    }

    /// Whether the process is paused by [`Process::pause`].
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Whether it is started and not paused: the process can make progress.
    pub fn is_live(&self) -> bool {
        self.child.is_some() && !self.paused
    }

    /// Whether it is started and has not ended on its own (a paused process is running).
    pub fn is_running(&mut self) -> bool {
        self.child.is_some() && self.exited().is_none()
    }

    /// The exit status if the started process ended on its own (a crash, as far as a test is
    /// concerned).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// SIGKILL, then reap. No-op when not running.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.paused = false;
    }

    /// SIGTERM (a clean shutdown), then reap; SIGKILL if it has not exited within `grace`.
    /// Returns whether it exited by itself. No-op (`false`) when not running.
    pub fn terminate(&mut self, grace: std::time::Duration) -> bool {
        let Some(pid) = self.pid() else { return false };
        if self.paused {
            signal(pid, "CONT");
        }
        signal(pid, "TERM");
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            if self.exited().is_some() {
                self.child = None;
                self.paused = false;
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        self.kill();
        false
    }

    /// SIGSTOP: the process stays in memory with its sockets open but does nothing.
    ///
    /// # Panics
    ///
    /// Panics when it is not running or the signal cannot be sent.
    pub fn pause(&mut self) {
        let pid = self.pid().unwrap_or_else(|| panic!("{} is not running", self.name));
        signal(pid, "STOP");
        self.paused = true;
    }

    /// SIGCONT after [`Process::pause`].
    ///
    /// # Panics
    ///
    /// Panics when it is not running or the signal cannot be sent.
    pub fn resume(&mut self) {
        let pid = self.pid().unwrap_or_else(|| panic!("{} is not running", self.name));
        signal(pid, "CONT");
        self.paused = false;
    }

    /// SIGKILL then start again.
    pub fn restart(&mut self) {
        self.kill();
        self.start();
    }

    /// Resident set size (`VmRSS`) in MiB, from `/proc/<pid>/status`.
    ///
    /// # Errors
    ///
    /// The process is not running or its status cannot be read.
    pub fn rss_mib(&self) -> anyhow::Result<f64> {
        let pid = self.pid().with_context(|| format!("{} is not running", self.name))?;
        let path = format!("/proc/{pid}/status");
        let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        vm_rss_mib(&status).with_context(|| format!("VmRSS missing in {path}"))
    }

    /// The log of the current incarnation (empty before the first start).
    pub fn log_of_current_start(&self) -> String {
        let mut out = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log_path)
            && f.seek(SeekFrom::Start(self.log_offset)).is_ok()
        {
            let _ = f.read_to_string(&mut out);
        }
        out
    }

    /// The whole log, every incarnation.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The last `n` lines of the log, for failure messages.
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The `VmRSS:` line of a `/proc/<pid>/status` text, in MiB.
fn vm_rss_mib(status: &str) -> Option<f64> {
    let kb = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())?;
    Some(kb / 1024.0)
}

/// Sends a signal with `kill(1)` (no libc dependency; std only sends SIGKILL).
fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args(["-s", name, &pid.to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill -s {name} {pid}: {e}"));
    assert!(status.success(), "kill -s {name} {pid}: {status}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_is_read_in_mib() {
        let status = "Name:\tyaoshi\nVmPeak:\t  9000 kB\nVmRSS:\t  209920 kB\nThreads:\t7\n";
        assert_eq!(vm_rss_mib(status), Some(205.0));
        assert_eq!(vm_rss_mib("Name:\tx\n"), None);
    }

    /// A real child: its pid is live and its VmRSS is readable; it is killed on drop.
    #[test]
    fn spawned_process_reports_pid_and_rss() {
        let log =
            std::env::temp_dir().join(format!("yaoshi-testkit-proc-{}.log", std::process::id()));
        let mut p = Process::new("sleep", Path::new("sleep"), vec!["30".into()], vec![], &log);
        p.try_start().unwrap();
        let pid = p.pid().unwrap();
        assert!(Path::new(&format!("/proc/{pid}")).exists());
        let rss = p.rss_mib().unwrap();
        assert!(rss > 0.0 && rss < 100.0, "{rss}");
        drop(p);
        // Killed and reaped: the pid is gone (or reused by an unrelated process, not `sleep`).
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        assert_ne!(comm.trim(), "sleep");
        let _ = std::fs::remove_file(&log);
    }

    /// Pause, resume, restart; each incarnation's log is read alone, stdout logged on request.
    #[test]
    fn incarnations_are_logged_separately() {
        let log =
            std::env::temp_dir().join(format!("yaoshi-testkit-incr-{}.log", std::process::id()));
        let _ = std::fs::remove_file(&log);
        let script = "echo out-$N; echo err-$N >&2; exec sleep 30".to_string();
        let mut p = Process::new(
            "sh",
            Path::new("sh"),
            vec!["-c".into(), script],
            vec![("N".into(), "1".into())],
            &log,
        )
        .with_stdout_logged();
        assert!(!p.is_running());
        p.start();
        assert!(p.is_running() && p.is_live());
        p.pause();
        assert!(p.is_running() && p.is_paused() && !p.is_live());
        p.resume();
        assert!(p.is_live());
        let wait_for = |p: &Process, what: &str| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !p.log_of_current_start().contains(what) {
                assert!(std::time::Instant::now() < deadline, "{what} not logged: {}", p.log());
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        };
        wait_for(&p, "out-1");
        wait_for(&p, "err-1");
        p.restart();
        assert_eq!(p.starts(), 2);
        wait_for(&p, "err-1");
        let current = p.log_of_current_start();
        assert!(!current.contains("start #1") && current.contains("err-1"), "{current}");
        assert_eq!(p.log().matches("err-1").count(), 2, "{}", p.log());
        assert!(p.log().contains("=== yaoshi-testkit: start #2 of sh ==="), "{}", p.log());
        p.kill();
        assert!(!p.is_started() && !p.is_running());
        let _ = std::fs::remove_file(&log);
    }
}
