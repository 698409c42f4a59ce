//! Label and field selectors, as list, watch and deletecollection requests carry them, and
//! `LabelSelector` objects (matchLabels/matchExpressions) as controllers use them.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
enum LabelOp {
    Equals(String),
    NotEquals(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
    GreaterThan(i64),
    LessThan(i64),
}

#[derive(Debug, Clone, PartialEq)]
struct Requirement {
    key: String,
    op: LabelOp,
}

/// A parsed `labelSelector` query parameter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut current = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                depth += 1;
                current.push(c)
            }
            ')' => {
                depth -= 1;
                current.push(c)
            }
            ',' if depth == 0 => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn parse_set(rest: &str) -> Result<Vec<String>, String> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("found '{rest}', expected: '(' … ')'"))?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect())
}

impl LabelSelector {
    pub fn parse(text: &str) -> Result<LabelSelector, String> {
        let mut requirements = Vec::new();
        for part in split_top_level(text) {
            let requirement = if let Some(key) = part.strip_prefix('!') {
                Requirement {
                    key: key.trim().to_string(),
                    op: LabelOp::DoesNotExist,
                }
            } else if let Some((k, v)) = part.split_once("!=") {
                Requirement {
                    key: k.trim().into(),
                    op: LabelOp::NotEquals(v.trim().into()),
                }
            } else if let Some((k, v)) = part.split_once("==") {
                Requirement {
                    key: k.trim().into(),
                    op: LabelOp::Equals(v.trim().into()),
                }
            } else if let Some((k, v)) = part.split_once('=') {
                Requirement {
                    key: k.trim().into(),
                    op: LabelOp::Equals(v.trim().into()),
                }
            } else if let Some(i) = part.find(" notin ") {
                Requirement {
                    key: part[..i].trim().into(),
                    op: LabelOp::NotIn(parse_set(&part[i + 7..])?),
                }
            } else if let Some(i) = part.find(" in ") {
                Requirement {
                    key: part[..i].trim().into(),
                    op: LabelOp::In(parse_set(&part[i + 4..])?),
                }
            } else if let Some((k, v)) = part.split_once('>') {
                let n = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("invalid number in '{part}'"))?;
                Requirement {
                    key: k.trim().into(),
                    op: LabelOp::GreaterThan(n),
                }
            } else if let Some((k, v)) = part.split_once('<') {
                let n = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("invalid number in '{part}'"))?;
                Requirement {
                    key: k.trim().into(),
                    op: LabelOp::LessThan(n),
                }
            } else {
                Requirement {
                    key: part.trim().into(),
                    op: LabelOp::Exists,
                }
            };
            let key_ok = |k: &str| {
                !k.is_empty()
                    && k.len() <= 317
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'))
            };
            if !key_ok(&requirement.key) {
                return Err(format!(
                    "unable to parse requirement: invalid label key \"{}\"",
                    requirement.key
                ));
            }
            requirements.push(requirement);
        }
        Ok(LabelSelector { requirements })
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.requirements.iter().all(|r| match &r.op {
            LabelOp::Equals(v) => get(&r.key) == Some(v.as_str()),
            LabelOp::NotEquals(v) => get(&r.key) != Some(v.as_str()),
            LabelOp::In(set) => get(&r.key).is_some_and(|v| set.iter().any(|s| s == v)),
            LabelOp::NotIn(set) => get(&r.key).is_none_or(|v| !set.iter().any(|s| s == v)),
            LabelOp::Exists => get(&r.key).is_some(),
            LabelOp::DoesNotExist => get(&r.key).is_none(),
            LabelOp::GreaterThan(n) => get(&r.key)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v > *n),
            LabelOp::LessThan(n) => get(&r.key)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v < *n),
        })
    }

    pub fn matches_object(&self, object: &Value) -> bool {
        self.matches(object["metadata"]["labels"].as_object())
    }
}

/// Whether labels satisfy a `LabelSelector` object (`matchLabels` and `matchExpressions`).
/// An empty selector matches everything; a missing one (`Null`) matches nothing.
pub fn selector_object_matches(selector: &Value, labels: Option<&Map<String, Value>>) -> bool {
    if selector.is_null() {
        return false;
    }
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    if let Some(match_labels) = selector["matchLabels"].as_object() {
        for (k, v) in match_labels {
            if get(k) != v.as_str() {
                return false;
            }
        }
    }
    for expr in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = expr["key"].as_str().unwrap_or("");
        let values: Vec<&str> = expr["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let ok = match expr["operator"].as_str().unwrap_or("") {
            "In" => get(key).is_some_and(|v| values.contains(&v)),
            "NotIn" => get(key).is_none_or(|v| !values.contains(&v)),
            "Exists" => get(key).is_some(),
            "DoesNotExist" => get(key).is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// A `LabelSelector` object rendered as query text (`app=x,tier in (a,b)`), as the Scale
/// subresource's `status.selector` and `kubectl describe` show it.
pub fn selector_object_to_string(selector: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(m) = selector["matchLabels"].as_object() {
        for (k, v) in m {
            parts.push(format!("{k}={}", v.as_str().unwrap_or("")));
        }
    }
    for expr in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = expr["key"].as_str().unwrap_or("");
        let values: Vec<&str> = expr["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        match expr["operator"].as_str().unwrap_or("") {
            "In" => parts.push(format!("{key} in ({})", values.join(","))),
            "NotIn" => parts.push(format!("{key} notin ({})", values.join(","))),
            "Exists" => parts.push(key.to_string()),
            "DoesNotExist" => parts.push(format!("!{key}")),
            _ => {}
        }
    }
    parts.join(",")
}

/// A parsed `fieldSelector` query parameter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector {
    /// (field, value, equal?)
    terms: Vec<(String, String, bool)>,
}

/// Fields the real API server lets each kind be selected by, besides metadata.name/namespace.
fn supported_fields(type_key: &str) -> &'static [&'static str] {
    match type_key {
        "v1/Pod" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        "v1/Event" => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        "v1/Secret" => &["type"],
        "v1/Namespace" => &["status.phase"],
        "v1/Node" => &["spec.unschedulable"],
        "v1/ReplicationController" | "apps/v1/ReplicaSet" => &["status.replicas"],
        "batch/v1/Job" => &["status.successful"],
        _ => &[],
    }
}

fn unescape(v: &str) -> String {
    let mut out = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl FieldSelector {
    /// Parses and checks the fields against what the kind supports (400 otherwise).
    pub fn parse(text: &str, type_key: &str) -> Result<FieldSelector, String> {
        let mut terms = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, value, equal) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, false)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, v, true)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, v, true)
            } else {
                return Err(format!(
                    "invalid selector: '{text}'; can't understand '{part}'"
                ));
            };
            let mut field = field.trim().to_string();
            // events.k8s.io/v1 calls the involved object "regarding"
            if let Some(rest) = field.strip_prefix("regarding.") {
                field = format!("involvedObject.{rest}");
            }
            if field != "metadata.name"
                && field != "metadata.namespace"
                && !supported_fields(type_key).contains(&field.as_str())
            {
                return Err(format!("field label not supported: {field}"));
            }
            terms.push((field, unescape(value.trim()), equal));
        }
        Ok(FieldSelector { terms })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The name asked for by `metadata.name=x`, if any (watches on one object).
    pub fn name(&self) -> Option<&str> {
        self.terms
            .iter()
            .find(|(f, _, eq)| f == "metadata.name" && *eq)
            .map(|(_, v, _)| v.as_str())
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.terms.iter().all(|(field, value, equal)| {
            let actual = field_value(object, field);
            (actual == *value) == *equal
        })
    }
}

fn field_value(object: &Value, field: &str) -> String {
    if field == "source" {
        return object["source"]["component"]
            .as_str()
            .unwrap_or("")
            .to_string();
    }
    let mut v = object;
    for part in field.split('.') {
        v = &v[part];
    }
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null if field == "spec.hostNetwork" || field == "spec.unschedulable" => {
            "false".into()
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selector_operators() {
        let labels = json!({"app": "web", "tier": "front"});
        let l = labels.as_object();
        for (sel, want) in [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app in (web,api)", true),
            ("app notin (web)", false),
            ("tier", true),
            ("!tier", false),
            ("!missing", true),
            ("app=web,tier in (back)", false),
        ] {
            assert_eq!(LabelSelector::parse(sel).unwrap().matches(l), want, "{sel}");
        }
    }

    #[test]
    fn malformed_label_selectors_are_refused() {
        for bad in ["(((", "a b", "x in y", "=v"] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn field_selector_rejects_unknown_fields() {
        assert!(FieldSelector::parse("spec.foo=1", "v1/Pod").is_err());
        let s = FieldSelector::parse("status.phase!=Running", "v1/Pod").unwrap();
        assert!(s.matches(&json!({"status": {"phase": "Pending"}})));
    }
}
