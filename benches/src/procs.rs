//! Real processes for the suites: `yaoshi` nodes and workers, the baseline server and etcd
//! members, killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// A child process killed on drop; its output goes to a log file. Its pid is known, so its
/// resident memory can be read from `/proc/<pid>/status`.
pub(crate) struct Proc {
    child: Child,
}

impl Proc {
    /// Starts `exe args…` with `envs`, output to `log`.
    pub(crate) fn spawn(
        exe: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        log: &Path,
    ) -> anyhow::Result<Proc> {
        let out = std::fs::File::create(log)?;
        let err = out.try_clone()?;
        let child = Command::new(exe)
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        Ok(Proc { child })
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident set size (`VmRSS`) in MiB, from `/proc/<pid>/status`.
    pub(crate) fn rss_mib(&self) -> anyhow::Result<f64> {
        let path = format!("/proc/{}/status", self.pid());
        let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        vm_rss_mib(&status).with_context(|| format!("VmRSS missing in {path}"))
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

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port.
pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A binary built next to this one (e.g. `yaoshi` in the same target profile directory).
pub(crate) fn sibling_exe(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let path = me.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(
        path.exists(),
        "{} not found: build it with `cargo build --release -p {name}`",
        path.display()
    );
    Ok(path)
}

/// Retries `f` until it succeeds or `timeout` passes.
pub(crate) async fn until_ok<T, F, Fut>(
    what: &str,
    timeout: Duration,
    mut f: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let start = Instant::now();
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if start.elapsed() > timeout => {
                return Err(e.context(format!("{what} (gave up)")));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
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
            std::env::temp_dir().join(format!("yaoshi-bench-proc-{}.log", std::process::id()));
        let p = Proc::spawn(Path::new("sleep"), &["30"], &[], &log).unwrap();
        let pid = p.pid();
        assert!(Path::new(&format!("/proc/{pid}")).exists());
        let rss = p.rss_mib().unwrap();
        assert!(rss > 0.0 && rss < 100.0, "{rss}");
        drop(p);
        // Killed and reaped: the pid is gone (or reused by an unrelated process, not `sleep`).
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        assert_ne!(comm.trim(), "sleep");
        let _ = std::fs::remove_file(&log);
    }
}
