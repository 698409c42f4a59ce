//! Registering documented primitives.
//!
//! Every primitive is registered with its parameter names, its Rust types (turned
//! into Rhai type names) and a one-line doc. `lfrun doc`, `:doc` in the REPL and the
//! `.d.rhai` definition files are generated from this metadata, so the reference can
//! never drift from what the engine actually has.

use rhai::{FuncRegistration, Module, RhaiNativeFunc, Shared, Variant};

/// Builds one `name::` module of primitives.
pub struct Registrar {
    name: &'static str,
    module: Module,
}

impl Registrar {
    /// `doc` describes the module as a whole; it becomes the module's doc comment.
    pub fn new(name: &'static str, doc: &str) -> Registrar {
        let mut module = Module::new();
        module.set_id(name);
        module.set_doc(format!("/// {doc}"));
        Registrar { name, module }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Registers `f` as `<module>::<name>`, with parameter names `params` (one per
    /// argument, in order) and a one-line `doc`.
    pub fn fun<A: 'static, const N: usize, const X: bool, R, const F: bool, FUNC>(
        &mut self,
        name: &str,
        doc: &str,
        params: &[&str],
        f: FUNC,
    ) -> &mut Self
    where
        R: Variant + Clone,
        FUNC: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
    {
        let types = FUNC::param_names();
        assert_eq!(
            params.len(),
            N,
            "primitive {}::{name}: {} parameter names for {N} parameters",
            self.name,
            params.len()
        );
        let mut info: Vec<String> = params
            .iter()
            .zip(types.iter())
            .map(|(p, t)| format!("{p}: {}", rhai_type_name(t)))
            .collect();
        info.push(rhai_type_name(FUNC::return_type_name()).to_string());
        let comments: Vec<String> = doc.lines().map(|l| format!("/// {l}")).collect();
        FuncRegistration::new(name)
            .with_params_info(info)
            .with_comments([comments.join("\n")])
            .set_into_module(&mut self.module, f);
        self
    }

    pub fn build(self) -> Module {
        self.module
    }

    pub fn build_shared(self) -> Shared<Module> {
        self.build().into()
    }
}

/// The name a script writer knows for a Rust type.
pub fn rhai_type_name(rust: &str) -> &str {
    let rust = rust
        .trim_start_matches('&')
        .trim_start_matches("mut ")
        .trim();
    if let Some(at) = rust.find("Result<") {
        // RhaiResultOf<T> is reported by its Ok type
        let inner = &rust[at + "Result<".len()..];
        let mut depth = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                ',' if depth == 0 => return rhai_type_name(&inner[..i]),
                _ => {}
            }
        }
        return rhai_type_name(inner);
    }
    let base = rust.split('<').next().unwrap_or(rust);
    match base.rsplit("::").next().unwrap_or(base) {
        "ImmutableString" | "String" | "str" => "String",
        "i64" | "INT" => "int",
        "f64" | "FLOAT" => "float",
        "bool" => "bool",
        "Map" | "BTreeMap" => "Map",
        "Array" | "Vec" => "Array",
        "FnPtr" => "Fn",
        "Dynamic" => "?",
        "()" => "()",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::rhai_type_name;

    #[test]
    fn maps_rust_types_to_script_names() {
        assert_eq!(rhai_type_name("&str"), "String");
        assert_eq!(
            rhai_type_name("rhai::types::immutable_string::ImmutableString"),
            "String"
        );
        assert_eq!(rhai_type_name("i64"), "int");
        assert_eq!(rhai_type_name("lfrun::secret::Secret"), "Secret");
        assert_eq!(
            rhai_type_name(
                "core::result::Result<rhai::Map, alloc::boxed::Box<rhai::EvalAltResult>>"
            ),
            "Map"
        );
    }
}
