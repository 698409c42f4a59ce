//! The rehearsal's own control API under `/_sim/` on the Kubernetes listener: what tests,
//! `lfrun sim reset` and attached lfrun processes use to inspect and steer a running
//! rehearsal environment. Not part of any real API.
//!
//! | request | effect |
//! | --- | --- |
//! | `GET /_sim/requests` | the request log (JSON array) |
//! | `DELETE /_sim/requests` | clears it |
//! | `GET /_sim/info` | scenario, deploy_pending, virtual time, time scale |
//! | `POST /_sim/reset?scenario=S` | replaces the world with scenario S's |
//! | `POST /_sim/faults/apply` | applies the scenario's post-deploy faults |
//! | `POST /_sim/clock/advance?seconds=N` | moves virtual time forward |
//! | `GET/POST/DELETE /_sim/registry?image=I` | lists / pushes / removes an image tag |
//! | `POST /_sim/disk-usage?namespace=&claim=&percent=` | sets a volume's usage |
//! | `GET /_sim/world` | the whole persisted state (debugging) |

use crate::api_faults::ApiFaults;
use crate::faults::{apply_pending, Fault};
use crate::kube::server::{json_response, Query};
use crate::kube::status::ApiError;
use crate::request_log::RequestLog;
use crate::world::SharedWorld;
use axum::body::{Body, Bytes};
use axum::http::Response;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

pub struct ControlApi {
    pub world: SharedWorld,
    pub log: RequestLog,
    pub faults: Arc<ApiFaults>,
}

impl ControlApi {
    pub async fn handle(
        &self,
        method: &str,
        rest: &[&str],
        query: &Query,
        _body: &Bytes,
    ) -> Result<Response<Body>, ApiError> {
        match (method, rest) {
            ("GET", ["requests"]) => {
                let records = self.log.records();
                Ok(json_response(
                    200,
                    &serde_json::to_value(records).unwrap_or(Value::Null),
                ))
            }
            ("DELETE", ["requests"]) => {
                self.log.clear();
                Ok(json_response(200, &json!({"cleared": true})))
            }
            ("GET", ["info"]) => Ok(json_response(
                200,
                &self.world.read(|w| {
                    json!({
                        "scenario": w.scenario,
                        "deploy_pending": w.deploy_pending,
                        "virtual_ms": w.clock.now(),
                        "time_scale": w.clock.scale(),
                        "resource_version": w.kube.resource_version,
                    })
                }),
            )),
            ("GET", ["world"]) => {
                let bytes = self
                    .world
                    .snapshot()
                    .map_err(|e| ApiError::internal(e.to_string()))?;
                let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                Ok(json_response(200, &v))
            }
            ("POST", ["reset"]) => {
                let name = query.get("scenario").unwrap_or("healthy");
                let scenario = crate::scenario::load(name)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
                let world = crate::scenario::build_world(&scenario)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
                self.world.replace(world);
                self.faults.reset();
                self.log.clear();
                Ok(json_response(
                    200,
                    &json!({"scenario": scenario.name, "deploy_pending": scenario.deployed}),
                ))
            }
            ("POST", ["faults", "apply"]) => {
                let applied = self
                    .world
                    .write(apply_pending)
                    .map_err(ApiError::bad_request)?;
                self.world.wake_controllers();
                Ok(json_response(200, &json!({"applied": applied})))
            }
            ("POST", ["faults"]) => {
                let fault: Fault = serde_json::from_slice(_body)
                    .map_err(|e| ApiError::bad_request(format!("fault: {e}")))?;
                let done = self
                    .world
                    .write(|w| crate::faults::apply(w, &fault))
                    .map_err(ApiError::bad_request)?;
                self.world.wake_controllers();
                Ok(json_response(200, &json!({"applied": [done]})))
            }
            ("POST", ["clock", "advance"]) => {
                let seconds: f64 = query
                    .get("seconds")
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| ApiError::bad_request("seconds=N is required"))?;
                self.world
                    .write(|w| w.clock.advance(Duration::from_secs_f64(seconds.max(0.0))));
                self.world.wake_controllers();
                Ok(json_response(
                    200,
                    &json!({"virtual_ms": self.world.read(|w| w.clock.now())}),
                ))
            }
            ("GET", ["registry"]) => Ok(json_response(
                200,
                &self
                    .world
                    .read(|w| serde_json::to_value(&w.registry).unwrap_or(Value::Null)),
            )),
            ("POST", ["registry"]) | ("DELETE", ["registry"]) => {
                let image = query
                    .get("image")
                    .ok_or_else(|| ApiError::bad_request("image=… is required"))?
                    .to_string();
                let present = self.world.write(|w| {
                    if method == "POST" {
                        w.registry.push(&image);
                        true
                    } else {
                        w.registry.remove(&image)
                    }
                });
                self.world.wake_controllers();
                Ok(json_response(
                    200,
                    &json!({"image": image, "changed": present}),
                ))
            }
            ("POST", ["disk-usage"]) => {
                let fault = Fault::DiskUsage {
                    namespace: query.get("namespace").unwrap_or("langfuse").to_string(),
                    claim: query
                        .get("claim")
                        .ok_or_else(|| ApiError::bad_request("claim=… is required"))?
                        .to_string(),
                    percent: query.get("percent").and_then(|p| p.parse().ok()),
                    bytes: query.get("bytes").and_then(|p| p.parse().ok()),
                };
                let done = self
                    .world
                    .write(|w| crate::faults::apply(w, &fault))
                    .map_err(ApiError::bad_request)?;
                Ok(json_response(200, &json!({"applied": [done]})))
            }
            _ => Err(ApiError::no_such_path()),
        }
    }
}
