//! Turning errors into messages a person can act on: `file:line:col`, a code
//! frame, the step that failed, the message and the hint.
//!
//! Rhai reports an error raised inside a function as a chain of wrappers
//! (function call → module → … → the error itself). We walk the chain to the
//! innermost error, keeping track of which file each level's positions refer to.

use std::fmt::Write;

use rhai::{EvalAltResult, ParseError, Position};

use crate::builtins::STEP_ERROR_PREFIX;
use crate::embedded;
use crate::error::{ErrorKind, Failure};

/// An error, ready to print.
#[derive(Debug, Clone)]
pub struct Report {
    pub failure: Failure,
    /// `file:line:col` of the innermost position, when there is one.
    pub location: Option<(String, usize, usize)>,
    /// The innermost step that was running.
    pub step: Option<String>,
    /// Functions the error passed through, outermost first.
    pub trace: Vec<String>,
}

impl Report {
    pub fn location_text(&self) -> String {
        self.location
            .as_ref()
            .map(|(f, l, c)| format!("{f}:{l}:{c}"))
            .unwrap_or_default()
    }

    /// The full human-readable rendering, with a code frame when the source is readable.
    pub fn render(&self, color: bool) -> String {
        let paint = |code: &str, s: &str| {
            if color {
                format!("\x1b[{code}m{s}\x1b[0m")
            } else {
                s.to_string()
            }
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {}",
            paint("1;31", &format!("error[{}]", self.failure.kind)),
            paint("1", &crate::secret::redact(&self.failure.message))
        );
        if let Some((file, line, col)) = &self.location {
            let _ = writeln!(out, "  --> {file}:{line}:{col}");
            if let Some(text) = source_text(file) {
                out.push_str(&code_frame(&text, *line, *col));
            }
        }
        if let Some(step) = &self.step {
            let _ = writeln!(out, "   = step: {step}");
        }
        for t in &self.trace {
            let _ = writeln!(out, "   = {t}");
        }
        if !self.failure.hint.is_empty() {
            let _ = writeln!(
                out,
                "   = hint: {}",
                crate::secret::redact(&self.failure.hint)
            );
        }
        out
    }
}

/// Reads a source by the name it carries in errors (a path, or an embedded file).
pub fn source_text(name: &str) -> Option<String> {
    match name.strip_prefix(embedded::PREFIX) {
        Some(embedded_path) => embedded::file(embedded_path).map(str::to_string),
        None => std::fs::read_to_string(name).ok(),
    }
}

/// Three lines of context around `line`, with a caret under `col`.
pub fn code_frame(text: &str, line: usize, col: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if line == 0 || line > lines.len() {
        return String::new();
    }
    let width = (line + 1).to_string().len();
    let mut out = format!("{:width$} |\n", "");
    let first = line.saturating_sub(2).max(1);
    for n in first..=line {
        let _ = writeln!(out, "{n:>width$} | {}", lines[n - 1]);
    }
    let caret_pad: String = lines[line - 1]
        .chars()
        .take(col.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let _ = writeln!(out, "{:width$} | {caret_pad}^", "");
    out
}

/// A syntax error in `source` (`text` is its contents).
pub fn parse_report(source: &str, err: &ParseError) -> Report {
    let pos = err.position();
    Report {
        failure: Failure::new(
            ErrorKind::Script,
            format!("syntax error: {}", err.err_type()),
        )
        .with_hint(
            "fix the script at the marked position; `lfrun check FILE` checks without running",
        ),
        location: position(source, pos),
        step: None,
        trace: vec![],
    }
}

/// A runtime error from evaluating `main_source`. `functions` are the names the
/// engine knows, for "did you mean" suggestions.
pub fn eval_report(main_source: &str, err: &EvalAltResult, functions: &[String]) -> Report {
    let mut source = main_source.to_string();
    let mut step = None;
    let mut trace = Vec::new();
    let mut current = err;
    let mut outer_pos = err.position();
    loop {
        match current {
            EvalAltResult::ErrorInFunctionCall(name, fn_source, inner, pos) => {
                if let Some(label) = name.strip_prefix(STEP_ERROR_PREFIX) {
                    step = Some(label.to_string());
                } else if !name.starts_with("anon$") {
                    let at = position(&source, *pos)
                        .map(|(f, l, c)| format!(" (called at {f}:{l}:{c})"))
                        .unwrap_or_default();
                    trace.push(format!("in function {name}{at}"));
                }
                if !fn_source.is_empty() {
                    source = fn_source.clone();
                }
                if !pos.is_none() {
                    outer_pos = *pos;
                }
                current = inner;
            }
            EvalAltResult::ErrorInModule(name, inner, pos) => {
                if !pos.is_none() {
                    outer_pos = *pos;
                }
                source = name.clone();
                current = inner;
            }
            _ => break,
        }
    }
    let mut pos = current.position();
    if pos.is_none() {
        pos = outer_pos;
    }
    Report {
        failure: leaf_failure(current, functions),
        location: position(&source, pos),
        step,
        trace,
    }
}

fn position(source: &str, pos: Position) -> Option<(String, usize, usize)> {
    let line = pos.line()?;
    Some((source.to_string(), line, pos.position().unwrap_or(1)))
}

fn leaf_failure(err: &EvalAltResult, functions: &[String]) -> Failure {
    match err {
        EvalAltResult::ErrorRuntime(value, _) => Failure::from_dynamic(value)
            .unwrap_or_else(|| Failure::new(ErrorKind::Script, format!("script raised: {value}"))),
        EvalAltResult::ErrorTerminated(..) => Failure::cancelled(),
        EvalAltResult::ErrorParsing(kind, _) => {
            Failure::new(ErrorKind::Script, format!("syntax error: {kind}"))
        }
        EvalAltResult::ErrorModuleNotFound(name, _) => {
            Failure::not_found(format!("module not found: {name}"))
                .with_hint("check the import name; `lfrun init DIR` shows the stdlib layout")
        }
        EvalAltResult::ErrorFunctionNotFound(signature, _) => {
            let name = signature.split([' ', '(']).next().unwrap_or(signature);
            let same_name: Vec<&String> = functions
                .iter()
                .filter(|f| f.split('(').next() == Some(name))
                .collect();
            let hint = if !same_name.is_empty() {
                format!(
                    "the arguments do not match; {name} takes: {}",
                    same_name
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(" | ")
                )
            } else if let Some(close) = closest(name, functions) {
                format!("did you mean {close}? (`lfrun doc` lists every primitive)")
            } else {
                "`lfrun doc` lists every primitive".to_string()
            };
            Failure::new(
                ErrorKind::Script,
                format!("unknown function or wrong argument types: {signature}"),
            )
            .with_hint(hint)
        }
        other => Failure::new(ErrorKind::Script, without_position(&other.to_string())),
    }
}

/// Rhai appends " (line N, position M)" to messages; the report shows it as file:line:col.
fn without_position(message: &str) -> String {
    match message.rfind(" (line ") {
        Some(at) if message.ends_with(')') => message[..at].to_string(),
        _ => message.to_string(),
    }
}

fn closest<'a>(name: &str, functions: &'a [String]) -> Option<&'a str> {
    functions
        .iter()
        .map(|f| f.split('(').next().unwrap_or(f))
        .map(|f| (crate::config::edit_distance(name, f), f))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, f)| f)
}

#[cfg(test)]
mod tests {
    use super::code_frame;

    #[test]
    fn frame_marks_the_column() {
        let frame = code_frame("let a = 1;\nlet b = ;\n", 2, 9);
        assert!(frame.contains("2 | let b = ;"), "{frame}");
        assert!(frame.contains("  |         ^"), "{frame}");
    }
}
