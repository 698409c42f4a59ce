//! Integration tests: each file covers one feature and runs the real `lfrun`
//! binary through the `Test` builder (`tests/test.rs`).

mod test;

mod check;
mod errors;
mod plan;
