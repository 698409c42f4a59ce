//! Tracing for lfrun's own internals: off by default, `-vv` or `RUST_LOG` turns it on.
//! (`-v` alone shows external tools' output live; that goes through the reporter.)
//!
//! Trace lines pass through the redactor like every other output, so a secret that
//! ends up in a traced value still prints as `***`.

use std::io::Write;

use tracing_subscriber::EnvFilter;

pub fn init(verbosity: u8) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => EnvFilter::new(spec),
        _ if verbosity >= 2 => EnvFilter::new("lfrun=debug,lfrun_sim=info,kube=info"),
        _ => EnvFilter::new("off"),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| RedactingStderr)
        .with_target(true)
        .try_init();
}

/// stderr, with registered secret values replaced by `***`.
struct RedactingStderr;

impl Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = crate::secret::redact(&String::from_utf8_lossy(buf));
        std::io::stderr().write_all(text.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
