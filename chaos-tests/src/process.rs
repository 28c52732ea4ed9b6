//! One child process: started, SIGKILLed, paused (SIGSTOP), resumed (SIGCONT) and restarted with
//! the same arguments. Its stderr (the `tracing` log) is appended to one file across restarts, so
//! the whole history of a node stays available for diagnosis.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

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
        assert!(self.child.is_none(), "{} is already running", self.name);
        use std::io::Write;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .unwrap_or_else(|e| panic!("{}: {e}", self.log_path.display()));
        self.starts += 1;
        let _ = writeln!(log, "=== chaos harness: start #{} of {} ===", self.starts, self.name);
        self.log_offset = log.metadata().map(|m| m.len()).unwrap_or(0);
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
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("spawning {} (prefix {:?}): {e}", self.program.display(), self.prefix)
            });
        self.child = Some(child);
        self.paused = false;
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

/// Sends a signal with `kill(1)` (no libc dependency; std only sends SIGKILL).
fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args(["-s", name, &pid.to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill -s {name} {pid}: {e}"));
    assert!(status.success(), "kill -s {name} {pid}: {status}");
}
