//! `workload-identity` — pods reach Blob storage as the managed identity (guide §3).
//!
//! Workload identity needs both halves: the service account annotated with the
//! identity's client id, and the web/worker pods labelled
//! `azure.workload.identity/use: "true"` so the webhook injects the token. The
//! federated credential's subject names the service account
//! (`system:serviceaccount:langfuse:langfuse`), so its name must match too.

use serde_json::Value as Json;

use crate::policy::manifests::{find, langfuse};
use crate::policy::rule::{Finding, Rule, Severity};
use crate::policy::{tree, Context};

pub const RULE: Rule = Rule {
    id: "workload-identity",
    severity: Severity::Error,
    summary: "service account annotated with the identity's client id, web and worker pods labelled for workload identity (guide §3, §8)",
    values,
    manifests,
};

pub const ANNOTATION: &str = "azure.workload.identity/client-id";
pub const LABEL: &str = "azure.workload.identity/use";

fn values(values: &Json, ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    if !tree::flag(values, &["langfuse", "serviceAccount", "create"], true) {
        out.push(Finding::new(
            "`langfuse.serviceAccount.create` is false: the chart's service account carries the workload identity annotation",
            "set langfuse.serviceAccount.create: true with the annotation (guide §8)",
        ));
    } else if tree::text(
        values,
        &["langfuse", "serviceAccount", "annotations", ANNOTATION],
    )
    .is_none()
    {
        out.push(Finding::new(
            format!("`langfuse.serviceAccount.annotations` lacks `{ANNOTATION}`"),
            "annotate the service account with the managed identity's client id (guide §8)",
        ));
    }
    if let (Some(want), Some(name)) = (
        &ctx.service_account,
        tree::text(values, &["langfuse", "serviceAccount", "name"]),
    ) {
        if &name != want {
            out.push(Finding::new(
                format!("`langfuse.serviceAccount.name` is {name}, but the federated credential is for {want}"),
                "use the service account named in langfuse.service_account (guide §3)",
            ));
        }
    }
    let labelled = |path: &[&str]| {
        let mut p = path.to_vec();
        p.extend(["labels", LABEL]);
        tree::text(values, &p).as_deref() == Some("true")
    };
    let all = labelled(&["langfuse", "pod"]);
    for component in ["web", "worker"] {
        if !all && !labelled(&["langfuse", component, "pod"]) {
            out.push(Finding::new(
                format!("{component} pods are not labelled `{LABEL}: \"true\"`"),
                "set langfuse.pod.labels.\"azure.workload.identity/use\": \"true\" (guide §8)",
            ));
        }
    }
    out
}

fn manifests(manifests: &[Json], ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for component in ["web", "worker"] {
        let Some(w) = langfuse(manifests, component) else {
            continue;
        };
        if w.pod_label(LABEL) != Some("true") {
            out.push(Finding::new(
                format!("{} pods are not labelled `{LABEL}: \"true\"`", w.id()),
                "set langfuse.pod.labels.\"azure.workload.identity/use\": \"true\" (guide §8)",
            ));
        }
        let account = w.service_account().unwrap_or("default");
        if let Some(want) = &ctx.service_account {
            if account != want {
                out.push(Finding::new(
                    format!("{} runs as service account {account}, but the federated credential is for {want}", w.id()),
                    "set langfuse.serviceAccount.name to langfuse.service_account (guide §3)",
                ));
            }
        }
        let annotated = find(manifests, "ServiceAccount", account)
            .and_then(|sa| sa["metadata"]["annotations"][ANNOTATION].as_str())
            .is_some_and(|s| !s.is_empty());
        if !annotated {
            out.push(Finding::new(
                format!("{} runs as service account {account}, which is not annotated with `{ANNOTATION}`", w.id()),
                "let the chart create the service account with the annotation (guide §8)",
            ));
        }
    }
    out
}
