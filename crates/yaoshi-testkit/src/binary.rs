//! The `yaoshi` executable the fixtures run.
//!
//! Every launcher takes the binary as an explicit path, so a caller that knows it passes it: the
//! `yaoshi` package's own tests pass `env!("CARGO_BIN_EXE_yaoshi")`, the benches the release
//! executable next to their own ([`sibling_exe`]). Cargo gives `CARGO_BIN_EXE_<name>` only to the
//! tests of the package that owns the binary, and a binary cannot be a dependency (artifact
//! dependencies are unstable), so for other tests (the chaos tests) [`yaoshi_binary`] finds it:
//!
//! 1. `YAOSHI_BIN`, when set, names the executable to run (nothing is built).
//! 2. Otherwise the test builds it with the cargo that runs the test (`CARGO`, which cargo sets
//!    for test processes) into the test's own target directory and profile:
//!    `cargo build -p yaoshi --bin yaoshi --target-dir <target>` (`--release`/`--profile` as the
//!    test's). Cargo does not hold its build lock while tests run, and the build is a no-op when the
//!    binary is fresh (`cargo test --workspace` has already built it), so a test never runs a stale
//!    binary after the sources changed.
//! 3. Without `CARGO` (a test executable started by hand) the binary next to the test's `deps/`
//!    directory is used if it exists.
//!
//! `<target>` and the profile come from the test executable's path,
//! `<target>/<profile>/deps/<test>-<hash>`, so `CARGO_TARGET_DIR` (e.g.
//! `$HOME/.cache/yaoshi-target` in `.ci/run`) works without configuration.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The `yaoshi` executable, built first if needed (see the module documentation).
///
/// # Panics
///
/// Panics when the binary cannot be built or found.
pub fn yaoshi_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| match locate() {
        Ok(p) => p,
        Err(e) => panic!("cannot provide the yaoshi binary: {e:#}"),
    })
    .clone()
}

fn locate() -> anyhow::Result<PathBuf> {
    if let Ok(bin) = std::env::var("YAOSHI_BIN") {
        let bin = PathBuf::from(bin);
        anyhow::ensure!(bin.exists(), "YAOSHI_BIN={} does not exist", bin.display());
        return Ok(bin);
    }
    let exe = std::env::current_exe()?;
    let (target, profile) = target_and_profile(&exe)?;
    let bin = target.join(&profile).join(format!("yaoshi{}", std::env::consts::EXE_SUFFIX));
    let Ok(cargo) = std::env::var("CARGO") else {
        anyhow::ensure!(
            bin.exists(),
            "{} not found and CARGO is not set: run `cargo build -p yaoshi` or set YAOSHI_BIN",
            bin.display()
        );
        return Ok(bin);
    };
    let mut cmd = std::process::Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", "yaoshi", "--bin", "yaoshi", "--target-dir"])
        .arg(&target)
        .current_dir(workspace_dir());
    match profile.as_str() {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    let status = cmd.status()?;
    anyhow::ensure!(status.success(), "`cargo build -p yaoshi` failed: {status}");
    anyhow::ensure!(bin.exists(), "{} missing after the build", bin.display());
    Ok(bin)
}

/// Where to run `cargo build`: the running test's package (`CARGO_MANIFEST_DIR`, which cargo sets
/// for test processes), not the path this crate was compiled at. A target directory shared by two
/// clones at different paths (`$HOME/.cache/yaoshi-target`) keeps a testkit compiled in the other
/// clone, whose compile-time path may no longer exist.
fn workspace_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_dir())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// `<target>/<profile>/deps/<exe>` → (`<target>`, `<profile>`).
fn target_and_profile(exe: &Path) -> anyhow::Result<(PathBuf, String)> {
    let deps = exe.parent().ok_or_else(|| anyhow::anyhow!("{} has no parent", exe.display()))?;
    anyhow::ensure!(
        deps.file_name().is_some_and(|n| n == "deps"),
        "{} is not in a cargo deps directory: set YAOSHI_BIN",
        exe.display()
    );
    let profile_dir = deps.parent().ok_or_else(|| anyhow::anyhow!("no profile directory"))?;
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow::anyhow!("bad profile directory {}", profile_dir.display()))?
        .to_string();
    let target = profile_dir.parent().ok_or_else(|| anyhow::anyhow!("no target directory"))?;
    Ok((target.to_path_buf(), profile))
}

/// An executable built next to the running one (e.g. `yaoshi` in the same target profile
/// directory as `yaoshi-bench`).
///
/// # Errors
///
/// The current executable is unknown or there is no such file next to it.
pub fn sibling_exe(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let path = me.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(
        path.exists(),
        "{} not found: build it with `cargo build --release -p {name}`",
        path.display()
    );
    Ok(path)
}

/// The directory of the test's target profile (`<target>/<profile>`), for run artifacts.
///
/// # Panics
///
/// Panics when the test executable is not in a cargo target directory.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let (target, profile) = target_and_profile(&exe).expect("test executable location");
    target.join(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_and_profile_from_test_path() {
        let (t, p) =
            target_and_profile(Path::new("/x/target/release/deps/scheduler-0123")).unwrap();
        assert_eq!((t, p.as_str()), (PathBuf::from("/x/target"), "release"));
        assert!(target_and_profile(Path::new("/usr/bin/yaoshi")).is_err());
    }

    #[test]
    fn sibling_exe_finds_only_existing_files() {
        let me = std::env::current_exe().unwrap();
        let name = me.file_name().unwrap().to_str().unwrap();
        let name = name.strip_suffix(std::env::consts::EXE_SUFFIX).unwrap_or(name);
        assert_eq!(sibling_exe(name).unwrap(), me);
        assert!(sibling_exe("no-such-executable-here").is_err());
    }
}
