fn main() {
    // `lfrun doc | head` should end quietly, as other Unix tools do, not fail on a closed pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default SIGPIPE disposition before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // No Rust panic message or backtrace reaches a user: a bug is reported plainly.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!(
            "lfrun: internal error: {}; please report it with the command that triggered it",
            lfrun::secret::redact(&what)
        );
    }));
    std::process::exit(lfrun::cli::main());
}
