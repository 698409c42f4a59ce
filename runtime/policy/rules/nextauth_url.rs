//! `nextauth-url` — `langfuse.nextauth.url` is https and is the public URL (guide §4, §8, §10).
//!
//! Azure AD redirects back to `<nextauth.url>/api/auth/callback/azure-ad`; a
//! mismatch with the URL users open is the guide's "State cookie missing", and
//! plain http sends the session cookie in clear.

use serde_json::Value as Json;

use crate::policy::manifests::langfuse;
use crate::policy::rule::{Finding, Rule, Severity};
use crate::policy::{tree, Context};

pub const RULE: Rule = Rule {
    id: "nextauth-url",
    severity: Severity::Error,
    summary: "langfuse.nextauth.url is https and equals langfuse.public_url (guide §4, §8, §10)",
    values,
    manifests,
};

/// `https://Host.example/` → `https://host.example`.
pub fn normalize(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
            let path = if path.is_empty() {
                String::new()
            } else {
                format!("/{path}")
            };
            format!(
                "{}://{}{path}",
                scheme.to_ascii_lowercase(),
                host.to_ascii_lowercase()
            )
        }
        None => url.to_string(),
    }
}

fn check(url: Option<String>, place: &str, ctx: &Context) -> Vec<Finding> {
    let Some(url) = url else {
        return vec![Finding::new(
            format!("{place}: nextauth.url is not set (the chart default is http://localhost:3000)"),
            "set langfuse.nextauth.url to the public URL, e.g. https://langfuse.example.com (guide §8)",
        )];
    };
    let mut out = Vec::new();
    if !url.starts_with("https://") {
        out.push(Finding::new(
            format!("{place}: nextauth.url {url} is not https"),
            "use the https public URL users open (guide §8)",
        ));
    }
    if let Some(public) = &ctx.public_url {
        if normalize(&url) != normalize(public) {
            out.push(Finding::new(
                format!("{place}: nextauth.url {url} is not the public URL {public}"),
                "set langfuse.nextauth.url to langfuse.public_url; the Azure AD redirect URI uses the same base (guide §4, §10 \"State cookie missing\")",
            ));
        }
    }
    out
}

fn values(values: &Json, ctx: &Context) -> Vec<Finding> {
    check(
        tree::text(values, &["langfuse", "nextauth", "url"]),
        "values",
        ctx,
    )
}

fn manifests(manifests: &[Json], ctx: &Context) -> Vec<Finding> {
    let Some(web) = langfuse(manifests, "web") else {
        return Vec::new();
    };
    let url = web.env_named("NEXTAUTH_URL").and_then(tree::env_value);
    check(url, &web.id(), ctx)
}

#[cfg(test)]
mod tests {
    #[test]
    fn normalizes_case_and_trailing_slash() {
        assert_eq!(
            super::normalize("https://Langfuse.Example.com/"),
            "https://langfuse.example.com"
        );
    }
}
