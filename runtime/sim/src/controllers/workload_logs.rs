//! How the workloads of a Langfuse installation behave inside their containers: what
//! they log when they start, run and fail, and which of them cannot start without which
//! other. This is the only place that knows Langfuse, PostgreSQL, ClickHouse and friends;
//! everything else in the simulation is generic Kubernetes.
//!
//! - Langfuse web and worker exit at start-up while a PostgreSQL or ClickHouse pod of
//!   the release exists and none of them is ready (the `db-not-ready` failure mode:
//!   CrashLoopBackOff, logs saying which database is unreachable).
//! - When a ClickHouse volume is full, ClickHouse logs `NOT_ENOUGH_SPACE` errors and the
//!   worker logs the traces and observations it had to drop (the disk-full failure mode).

use crate::quantity::value_bytes;
use crate::registry::ImageRef;
use crate::store::namespace_of;
use crate::world::World;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    LangfuseWeb,
    LangfuseWorker,
    ClickHouse,
    PostgreSQL,
    Redis,
    ZooKeeper,
    Other,
}

/// What runs in a container, judged by its image.
pub fn classify(container: &Value) -> Workload {
    let image = container["image"].as_str().unwrap_or("");
    let path = ImageRef::parse(image).path.to_lowercase();
    let name = container["name"].as_str().unwrap_or("").to_lowercase();
    if path.contains("langfuse-worker") || (path.contains("langfuse") && name.contains("worker")) {
        Workload::LangfuseWorker
    } else if path.contains("langfuse") {
        Workload::LangfuseWeb
    } else if path.contains("clickhouse") {
        Workload::ClickHouse
    } else if path.contains("postgres") {
        Workload::PostgreSQL
    } else if path.contains("valkey") || path.contains("redis") {
        Workload::Redis
    } else if path.contains("zookeeper") {
        Workload::ZooKeeper
    } else {
        Workload::Other
    }
}

fn pods_named<'a>(
    world: &'a World,
    namespace: &'a str,
    app: &'a str,
) -> impl Iterator<Item = &'a Value> + 'a {
    world
        .kube
        .list("v1/Pod", Some(namespace))
        .filter(move |p| p["metadata"]["labels"]["app.kubernetes.io/name"] == app)
        .filter(|p| super::objects::is_active_pod(p))
}

/// A dependency exists (pods of it are deployed) and none of its pods is ready.
fn dependency_down(world: &World, namespace: &str, app: &str) -> bool {
    let mut any = false;
    for pod in pods_named(world, namespace, app) {
        any = true;
        if super::objects::is_pod_ready(pod) {
            return false;
        }
    }
    any
}

fn service_host(world: &World, namespace: &str, app: &str, fallback: &str) -> String {
    world
        .kube
        .list("v1/Service", Some(namespace))
        .find(|s| {
            s["spec"]["selector"]["app.kubernetes.io/name"] == app
                && s["spec"]["clusterIP"] != "None"
        })
        .and_then(|s| s["metadata"]["name"].as_str().map(String::from))
        .unwrap_or_else(|| fallback.to_string())
}

/// Why this container exits right after starting, as log lines — None when it can run.
pub fn startup_failure(world: &World, pod: &Value, container: &Value) -> Option<Vec<String>> {
    let ns = namespace_of(pod);
    match classify(container) {
        Workload::LangfuseWeb | Workload::LangfuseWorker => {
            if dependency_down(world, ns, "postgresql") {
                let host = service_host(world, ns, "postgresql", "langfuse-postgresql");
                return Some(vec![
                    "Prisma schema loaded from packages/shared/prisma/schema.prisma".into(),
                    format!("Datasource \"db\": PostgreSQL database \"postgres_langfuse\", schema \"public\" at \"{host}:5432\""),
                    String::new(),
                    format!("Error: P1001: Can't reach database server at `{host}:5432`"),
                    String::new(),
                    format!("Please make sure your database server is running at `{host}:5432`."),
                    "Applying database migrations failed. This is mostly caused by the database being unavailable.".into(),
                    "Exiting...".into(),
                ]);
            }
            if dependency_down(world, ns, "clickhouse") {
                let host = service_host(world, ns, "clickhouse", "langfuse-clickhouse");
                return Some(vec![
                    "No pending migrations to apply.".into(),
                    format!("error: failed to open database: dial tcp: lookup {host} on 10.0.0.10:53: no such host"),
                    format!("Error: ClickHouse is not reachable at http://{host}:8123 (connect ECONNREFUSED)"),
                    "Applying clickhouse migrations failed. This is mostly caused by the database being unavailable.".into(),
                    "Exiting...".into(),
                ]);
            }
            None
        }
        _ => None,
    }
}

/// What a container prints when it starts.
pub fn startup_lines(world: &World, pod: &Value, container: &Value) -> Vec<String> {
    let ns = namespace_of(pod);
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or("");
    match classify(container) {
        Workload::LangfuseWeb => vec![
            "Prisma schema loaded from packages/shared/prisma/schema.prisma".into(),
            format!(
                "Datasource \"db\": PostgreSQL database \"postgres_langfuse\", schema \"public\" at \"{}:5432\"",
                service_host(world, ns, "postgresql", "langfuse-postgresql")
            ),
            "No pending migrations to apply.".into(),
            "no change".into(),
            "   ▲ Next.js 14.2.26".into(),
            format!("   - Local:        http://{pod_name}:3000"),
            "   - Network:      http://0.0.0.0:3000".into(),
            String::new(),
            " ✓ Starting...".into(),
            " ✓ Ready in 1843ms".into(),
        ],
        Workload::LangfuseWorker => vec![
            "info: Langfuse Worker starting".into(),
            "info: Clickhouse client initialized".into(),
            "info: Redis connection established".into(),
            "info: Listening on port 3030".into(),
        ],
        Workload::ClickHouse => vec![
            "clickhouse 12:00:00.00 INFO  ==> ** Starting ClickHouse setup **".into(),
            "clickhouse 12:00:01.00 INFO  ==> ** ClickHouse setup finished! **".into(),
            "clickhouse 12:00:01.00 INFO  ==> ** Starting ClickHouse **".into(),
            "Processing configuration file '/opt/bitnami/clickhouse/etc/config.xml'.".into(),
            "Logging information to /opt/bitnami/clickhouse/logs/clickhouse-server.log".into(),
            "<Information> Application: Ready for connections.".into(),
        ],
        Workload::PostgreSQL => vec![
            "postgresql 12:00:00.00 INFO  ==> ** Starting PostgreSQL setup **".into(),
            "postgresql 12:00:01.00 INFO  ==> ** PostgreSQL setup finished! **".into(),
            "postgresql 12:00:01.00 INFO  ==> ** Starting PostgreSQL **".into(),
            "LOG:  starting PostgreSQL 17.3 on x86_64-pc-linux-gnu".into(),
            "LOG:  listening on IPv4 address \"0.0.0.0\", port 5432".into(),
            "LOG:  database system is ready to accept connections".into(),
        ],
        Workload::Redis => vec![
            "valkey 12:00:00.00 INFO  ==> ** Starting Valkey **".into(),
            "1:M * Server initialized".into(),
            "1:M * Ready to accept connections tcp".into(),
        ],
        Workload::ZooKeeper => vec![
            "zookeeper 12:00:00.00 INFO  ==> ** Starting ZooKeeper **".into(),
            "INFO  [main:o.a.z.s.NIOServerCnxnFactory@660] - binding to port 0.0.0.0/0.0.0.0:2181".into(),
        ],
        Workload::Other => vec![format!("Started {}", container["name"].as_str().unwrap_or("container"))],
    }
}

/// The ClickHouse data volumes of a namespace that are full: (claim, used, capacity).
pub fn full_clickhouse_volumes(world: &World, namespace: &str) -> Vec<(String, u64, u64)> {
    world
        .kube
        .list("v1/PersistentVolumeClaim", Some(namespace))
        .filter(|pvc| {
            pvc["metadata"]["labels"]["app.kubernetes.io/name"] == "clickhouse"
                || pvc["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.contains("clickhouse"))
        })
        .filter_map(|pvc| {
            let name = pvc["metadata"]["name"].as_str()?.to_string();
            let capacity = value_bytes(&pvc["status"]["capacity"]["storage"])?;
            let used = world
                .disk_usage
                .get(&format!("{namespace}/{name}"))
                .copied()
                .unwrap_or(0);
            (used >= capacity).then_some((name, used, capacity))
        })
        .collect()
}

/// Lines a running container adds every minute of virtual time. `tick` counts minutes.
pub fn periodic_lines(world: &World, pod: &Value, container: &Value, tick: u64) -> Vec<String> {
    let ns = namespace_of(pod);
    match classify(container) {
        Workload::LangfuseWorker => {
            let full = full_clickhouse_volumes(world, ns);
            if full.is_empty() {
                vec![format!(
                    "info: Processed {} events from ingestion queue",
                    20 + tick % 17
                )]
            } else {
                let dropped = 30 + (crate::ids::mix(tick) % 40);
                vec![
                    "error: Failed to insert into ClickHouse: Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space. (NOT_ENOUGH_SPACE)".into(),
                    format!("error: dropped {dropped} traces/observations: ClickHouse insert failed (Not enough space)"),
                ]
            }
        }
        Workload::ClickHouse => {
            let full = full_clickhouse_volumes(world, ns);
            let own: Vec<&(String, u64, u64)> = full
                .iter()
                .filter(|(claim, _, _)| {
                    pod["spec"]["volumes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|v| v["persistentVolumeClaim"]["claimName"] == claim.as_str())
                })
                .collect();
            if own.is_empty() {
                vec!["<Information> MergeTreeBackgroundExecutor: merged 3 parts".into()]
            } else {
                vec![
                    "<Error> executeQuery: Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space. (NOT_ENOUGH_SPACE) (version 25.2.1.3085 (official build))".into(),
                    "<Error> MergeTreeBackgroundExecutor: Not enough space on disk 'default' to merge parts (NOT_ENOUGH_SPACE)".into(),
                ]
            }
        }
        Workload::LangfuseWeb => vec![format!("GET /api/public/health 200 in {}ms", 3 + tick % 5)],
        _ => Vec::new(),
    }
}
