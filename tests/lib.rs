//! Integration tests: each file covers one feature and runs the real `lfrun`
//! binary through the `Test` builder (`tests/test.rs`).

mod test;

mod cancel;
mod check;
mod config;
mod doc;
mod errors;
mod plan;
mod repl;
mod secrets;
mod steps;
mod terminal;
