//! The micro-benchmark table: collects what `cargo bench -p yaoshi-bench --bench micro` (criterion)
//! measured — the median time per operation of each benchmark, from criterion's
//! `<target>/criterion/**/new/{benchmark,estimates}.json` — and rewrites its table in
//! docs/BENCHMARKS.md.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::crypto_table::{machine, write_between};

const BEGIN: &str = "<!-- micro-table:begin -->";
const END: &str = "<!-- micro-table:end -->";

/// One benchmark's result.
#[derive(Debug, PartialEq)]
struct Measured {
    id: String,
    median_ns: f64,
    low_ns: f64,
    high_ns: f64,
}

/// Every `new/` directory under `dir` holding a benchmark.json and an estimates.json.
fn find(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "new") && p.join("estimates.json").exists() {
                out.push(p);
            } else {
                find(&p, out);
            }
        }
    }
}

fn read(new_dir: &Path) -> anyhow::Result<Measured> {
    let bench: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(new_dir.join("benchmark.json"))?)?;
    let est: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(new_dir.join("estimates.json"))?)?;
    let num = |v: &serde_json::Value| v.as_f64().context("not a number");
    Ok(Measured {
        id: bench["full_id"].as_str().context("full_id")?.to_string(),
        median_ns: num(&est["median"]["point_estimate"])?,
        low_ns: num(&est["median"]["confidence_interval"]["lower_bound"])?,
        high_ns: num(&est["median"]["confidence_interval"]["upper_bound"])?,
    })
}

/// A duration in ns, in the unit that reads best.
fn human(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn table(results: &[Measured], criterion_dir: &Path) -> String {
    let mut rows = String::new();
    for m in results {
        let _ = writeln!(
            rows,
            "| {} | {} | {} – {} | {:.0} |",
            m.id,
            human(m.median_ns),
            human(m.low_ns),
            human(m.high_ns),
            1e9 / m.median_ns.max(1e-9)
        );
    }
    format!(
        "{BEGIN}\nCollected {date} on {machine} from `{dir}` (criterion, release profile, one core).\n\n\
         | Benchmark | Median per op | 95% CI of the median | ops/s on one core |\n|---|---|---|---|\n{rows}{END}",
        date = yaoshi_client::timestamp_now(),
        machine = machine(),
        dir = criterion_dir.display(),
    )
}

/// Reads criterion's results under `criterion_dir` and rewrites the table in `out`.
pub(crate) fn run(criterion_dir: &Path, out: &Path) -> anyhow::Result<()> {
    let mut dirs = Vec::new();
    find(criterion_dir, &mut dirs);
    let mut results = dirs.iter().map(|d| read(d)).collect::<anyhow::Result<Vec<Measured>>>()?;
    anyhow::ensure!(
        !results.is_empty(),
        "no criterion results under {}: run `cargo bench -p yaoshi-bench --bench micro` first",
        criterion_dir.display()
    );
    results.sort_by(|a, b| a.id.cmp(&b.id));
    let t = table(&results, criterion_dir);
    write_between(out, BEGIN, END, &t)?;
    println!("{t}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_output_and_renders_rows() {
        let dir = std::env::temp_dir().join(format!("yaoshi-micro-{}", std::process::id()));
        let new = dir.join("crypto").join("aes_gcm_seal_32").join("new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(new.join("benchmark.json"), r#"{"full_id":"crypto/aes_gcm_seal_32"}"#)
            .unwrap();
        std::fs::write(
            new.join("estimates.json"),
            r#"{"median":{"point_estimate":1500.0,"confidence_interval":{"lower_bound":1400.0,"upper_bound":1600.0}}}"#,
        )
        .unwrap();
        let mut dirs = Vec::new();
        find(&dir, &mut dirs);
        assert_eq!(dirs, vec![new.clone()]);
        let m = read(&new).unwrap();
        assert_eq!(m.id, "crypto/aes_gcm_seal_32");
        let t = table(&[m], &dir);
        assert!(
            t.contains("| crypto/aes_gcm_seal_32 | 1.50 µs | 1.40 µs – 1.60 µs | 666667 |"),
            "{t}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
