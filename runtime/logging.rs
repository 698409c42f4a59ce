//! Tracing for lfrun's own internals: off by default, `-vv` or `RUST_LOG` turns it on.
//! (`-v` alone shows external tools' output live; that goes through the reporter.)

use tracing_subscriber::EnvFilter;

pub fn init(verbosity: u8) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => EnvFilter::new(spec),
        _ if verbosity >= 2 => EnvFilter::new("lfrun=debug,lfrun_sim=info,kube=info"),
        _ => EnvFilter::new("off"),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .try_init();
}
