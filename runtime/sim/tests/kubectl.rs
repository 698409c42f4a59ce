//! The real kubectl, unmodified (client-side validation on, no special flags), against
//! the rehearsal cluster: get, get -o yaml, describe, apply -f, patch, delete, rollout
//! status, logs, create namespace/secret (protobuf bodies).

mod common;
use common::*;

const MANIFEST: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: kc
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: langfuse/langfuse:3.224.1
        env:
        - {name: A, value: "1"}
        - {name: B, value: "2"}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_drives_the_rehearsal_cluster() {
    let kubectl = tool("kubectl");
    let t = start("empty").await;
    let kc = t.kubeconfig();
    let scratch = t.dir.path();
    macro_rules! k {
        ($($arg:expr),* $(,)?) => { run_ok(&kubectl, &kc, &[$($arg),*], scratch).await };
    }

    let out = k!("version", "-o", "json");
    assert!(out.contains("\"gitVersion\": \"v1.33.2\""), "{out}");
    k!("create", "namespace", "kc");
    k!(
        "create",
        "secret",
        "generic",
        "langfuse-secrets",
        "-n",
        "kc",
        "--from-literal=salt=abc",
        "--from-literal=encryption-key=def"
    );
    let secret = k!(
        "get",
        "secret",
        "langfuse-secrets",
        "-n",
        "kc",
        "-o",
        "jsonpath={.data.salt}"
    );
    assert_eq!(secret, "YWJj");

    let manifest = scratch.join("web.yaml");
    let mpath = manifest.to_str().unwrap().to_string();
    std::fs::write(&manifest, MANIFEST).unwrap();
    let out = k!("apply", "-f", mpath.as_str());
    assert!(out.contains("deployment.apps/web created"), "{out}");
    let out = k!(
        "rollout",
        "status",
        "deployment/web",
        "-n",
        "kc",
        "--timeout=60s"
    );
    assert!(out.contains("successfully rolled out"), "{out}");

    let table = k!("get", "pods", "-n", "kc");
    let header = table.lines().next().unwrap();
    assert!(
        header.starts_with("NAME")
            && header.contains("READY")
            && header.contains("STATUS")
            && header.contains("RESTARTS"),
        "{table}"
    );
    assert_eq!(
        table
            .lines()
            .filter(|l| l.contains("Running") && l.contains("1/1"))
            .count(),
        2,
        "{table}"
    );

    let yaml = k!("get", "deployment", "web", "-n", "kc", "-o", "yaml");
    assert!(
        yaml.contains("readyReplicas: 2") && yaml.contains("kind: Deployment"),
        "{yaml}"
    );
    let described = k!("describe", "deployment", "web", "-n", "kc");
    assert!(
        described.contains("NewReplicaSet:") && described.contains("ScalingReplicaSet"),
        "{described}"
    );
    let described = k!("describe", "pod", "-n", "kc", "-l", "app=web");
    assert!(
        described.contains("Successfully assigned kc/web-")
            && described.contains("Started container web"),
        "{described}"
    );

    // edit the manifest: apply computes a three-way strategic patch (env B removed, C added)
    std::fs::write(
        &manifest,
        MANIFEST.replace("- {name: B, value: \"2\"}", "- {name: C, value: \"3\"}"),
    )
    .unwrap();
    let out = k!("apply", "-f", mpath.as_str());
    assert!(out.contains("configured"), "{out}");
    let env = k!(
        "get",
        "deployment",
        "web",
        "-n",
        "kc",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].env[*].name}"
    );
    assert_eq!(env, "A C");
    k!(
        "rollout",
        "status",
        "deployment/web",
        "-n",
        "kc",
        "--timeout=60s"
    );

    // patches of both kinds
    k!(
        "patch",
        "deployment",
        "web",
        "-n",
        "kc",
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"labels":{"tier":"front"}}}"#
    );
    k!(
        "patch",
        "deployment",
        "web",
        "-n",
        "kc",
        "--type",
        "strategic",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"D","value":"4"}]}]}}}}"#
    );
    let env = k!(
        "get",
        "deployment",
        "web",
        "-n",
        "kc",
        "-o",
        "jsonpath={.metadata.labels.tier} {.spec.template.spec.containers[0].env[*].name}"
    );
    assert_eq!(env, "front A C D");
    let out = k!(
        "rollout",
        "status",
        "deployment/web",
        "-n",
        "kc",
        "--timeout=60s"
    );
    assert!(out.contains("successfully rolled out"), "{out}");

    let logs = k!("logs", "deployment/web", "-n", "kc", "--tail=1");
    assert!(!logs.trim().is_empty());

    // errors come back in the real format
    let out = run(
        &kubectl,
        &kc,
        &["get", "deployment", "nope", "-n", "kc"],
        scratch,
    )
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("Error from server (NotFound): deployments.apps \"nope\" not found"));
    std::fs::write(&manifest, MANIFEST.replace("replicas: 2", "replicaz: 2")).unwrap();
    let out = run(&kubectl, &kc, &["apply", "-f", mpath.as_str()], scratch).await;
    assert!(
        !out.status.success(),
        "kubectl's default strict validation refuses unknown fields"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown field \"spec.replicaz\""),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // delete by label, and the pods go
    k!("delete", "pod", "-n", "kc", "-l", "app=web");
    let out = k!("delete", "deployment", "web", "-n", "kc");
    assert!(out.contains("deleted"), "{out}");
    t.wait_for("/api/v1/namespaces/kc/pods", "no pods", |l| {
        l["items"].as_array().unwrap().is_empty()
    })
    .await;
    let out = k!("get", "events", "-n", "kc");
    assert!(out.contains("Killing"), "{out}");
}
