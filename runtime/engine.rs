//! Builds the Rhai engine a script runs in: limits, module resolution, the
//! `Secret` type, the functions every script has, and one static module per
//! primitive domain.
//!
//! [`primitive_modules`] is the single list of domains. `lfrun doc`, the REPL's
//! completion and the `.d.rhai` definitions all read the engine built here, so a
//! primitive that is registered is documented, and one that is not, is not.

use std::sync::Arc;

use rhai::{Dynamic, Engine, Module};

use crate::context::RunContext;
use crate::resolver::{ModuleFinder, Resolver};

/// Engine limits, configurable under `engine:` in the config.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Operations per evaluation (0 = unlimited).
    pub max_operations: u64,
    pub max_call_levels: usize,
    pub max_expr_depth: usize,
    pub max_string_size: usize,
    pub max_array_size: usize,
    pub max_map_size: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_operations: 500_000_000,
            max_call_levels: 64,
            max_expr_depth: 128,
            max_string_size: 64 * 1024 * 1024,
            max_array_size: 1_000_000,
            max_map_size: 100_000,
        }
    }
}

impl Limits {
    /// The defaults, overridden by `engine.max_operations` etc. in the config.
    pub fn from_config(config: &crate::config::Config) -> Limits {
        let mut l = Limits::default();
        let num = |key: &str| {
            config
                .get(&format!("engine.{key}"))
                .and_then(|v| v.as_u64())
        };
        if let Some(v) = num("max_operations") {
            l.max_operations = v;
        }
        if let Some(v) = num("max_call_levels") {
            l.max_call_levels = v as usize;
        }
        if let Some(v) = num("max_expr_depth") {
            l.max_expr_depth = v as usize;
        }
        if let Some(v) = num("max_string_size") {
            l.max_string_size = v as usize;
        }
        if let Some(v) = num("max_array_size") {
            l.max_array_size = v as usize;
        }
        if let Some(v) = num("max_map_size") {
            l.max_map_size = v as usize;
        }
        l
    }

    fn apply(&self, engine: &mut Engine) {
        engine
            .set_max_operations(self.max_operations)
            .set_max_call_levels(self.max_call_levels)
            .set_max_expr_depths(self.max_expr_depth, self.max_expr_depth)
            .set_max_string_size(self.max_string_size)
            .set_max_array_size(self.max_array_size)
            .set_max_map_size(self.max_map_size);
    }
}

/// Every primitive domain, as (`name` for `name::fn`, module).
pub fn primitive_modules(run: &Arc<RunContext>) -> Vec<(&'static str, Module)> {
    vec![
        ("config", crate::config::module(run)),
        ("secret", crate::secret::module(run)),
        ("fs", crate::fs::module(run)),
        ("kube", crate::kube::module(run)),
        ("az", crate::az::module(run)),
        ("http", crate::http::module(run)),
        ("helm", crate::helm::module(run)),
        ("policy", crate::policy::module(run)),
        ("docker", crate::docker::module(run)),
        ("git", crate::git::module(run)),
    ]
}

/// The engine for a run (or a REPL session, or `lfrun doc`).
pub fn build(run: &Arc<RunContext>, finder: ModuleFinder) -> Engine {
    let mut engine = Engine::new();
    Limits::from_config(&run.config).apply(&mut engine);
    engine.set_module_resolver(Resolver::new(finder));
    crate::secret::register_type(&mut engine);
    engine.register_global_module(crate::builtins::module(run).into());
    for (name, module) in primitive_modules(run) {
        engine.register_static_module(name, module.into());
    }

    let reporter = run.reporter.clone();
    engine.on_print(move |text| reporter.info(text));
    let reporter = run.reporter.clone();
    engine.on_debug(move |text, source, pos| {
        let at = match (source, pos.line()) {
            (Some(s), Some(l)) => format!("{s}:{l}: "),
            _ => String::new(),
        };
        reporter.emit(crate::report::Event::Message {
            level: "debug".into(),
            text: format!("{at}{text}"),
        });
    });

    // Ctrl-C (or a failed sibling in `parallel`) stops the script at the next operation.
    let r = run.clone();
    engine.on_progress(move |_| r.is_cancelled().then(|| Dynamic::from("cancelled")));
    engine
}
