//! Runtime benchmark (not a test): prints figures, asserts nothing.
//!
//!     cargo bench --bench runtime
//!
//! - wall time of `lfrun check` over every shipped playbook (target < 30 ms)
//! - start-up to the first script statement (target < 15 ms)
//! - peak RSS of an empty script run (target < 30 MiB)

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 20;

fn main() {
    let lfrun = env!("CARGO_BIN_EXE_lfrun");
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("first.rhai"), "print(\"first\");\n").unwrap();
    std::fs::write(dir.path().join("empty.rhai"), "").unwrap();

    let playbooks: Vec<String> = std::fs::read_dir(format!("{root}/playbooks"))
        .map(|d| {
            d.flatten()
                .map(|e| e.path().display().to_string())
                .filter(|p| p.ends_with(".rhai"))
                .collect()
        })
        .unwrap_or_default();
    let check = median(|| {
        let start = Instant::now();
        let status = Command::new(lfrun)
            .arg("check")
            .args(&playbooks)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success() || playbooks.is_empty());
        start.elapsed()
    });
    println!(
        "lfrun check over {} playbooks: median {:.1} ms (target < 30 ms)",
        playbooks.len(),
        ms(check)
    );

    let startup = median(|| {
        let start = Instant::now();
        let mut child = Command::new(lfrun)
            .arg("first.rhai")
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut elapsed = Duration::ZERO;
        for line in lines.by_ref() {
            if line.unwrap().trim() == "first" {
                elapsed = start.elapsed();
                break;
            }
        }
        for _ in lines {}
        child.wait().unwrap();
        elapsed
    });
    println!(
        "start-up to the first script statement: median {:.1} ms (target < 15 ms)",
        ms(startup)
    );

    let rss_kib = peak_rss_kib(lfrun, dir.path());
    println!(
        "peak RSS of an empty script run: {:.1} MiB (target < 30 MiB)",
        rss_kib as f64 / 1024.0
    );
}

fn median(mut f: impl FnMut() -> Duration) -> Duration {
    f(); // warm the page cache
    let mut samples: Vec<Duration> = (0..RUNS).map(|_| f()).collect();
    samples.sort();
    samples[RUNS / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Peak resident set of one run, from wait4's rusage.
#[allow(clippy::zombie_processes)] // reaped by wait4, which also reports its rusage
fn peak_rss_kib(lfrun: &str, dir: &std::path::Path) -> i64 {
    let child = Command::new(lfrun)
        .arg("empty.rhai")
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: plain wait4 on our own child; rusage is written by the kernel.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage);
        usage.ru_maxrss
    }
}
