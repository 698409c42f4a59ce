//! Services: Endpoints and EndpointSlices from the pods their selector matches (ready
//! pods as addresses, others as not-ready), and an external IP for LoadBalancer services.

use super::objects::{create_internal, is_pod_ready, is_terminating, write_if_changed};
use super::Pass;
use crate::kube::selector::LabelSelector;
use crate::store::{name_of, namespace_of};
use crate::world::World;
use serde_json::{json, Value};

fn target_port(service_port: &Value, pod: &Value) -> Value {
    match &service_port["targetPort"] {
        Value::String(name) => pod["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
            .find(|p| p["name"] == name.as_str())
            .map(|p| p["containerPort"].clone())
            .unwrap_or(json!(0)),
        Value::Null => service_port["port"].clone(),
        n => n.clone(),
    }
}

pub fn run(world: &mut World, _pass: &mut Pass<'_>) {
    for svc in world.kube.list_owned("v1/Service", None) {
        if is_terminating(&svc) {
            continue;
        }
        let ns = namespace_of(&svc).to_string();
        let name = name_of(&svc).to_string();
        if svc["spec"]["type"] == "LoadBalancer"
            && svc["status"]["loadBalancer"]["ingress"].is_null()
        {
            world.controllers.next_lb_ip += 1;
            let n = world.controllers.next_lb_ip;
            let mut s = svc.clone();
            s["status"] = json!({"loadBalancer": {"ingress": [{"ip": format!("20.{}.{}.{}", 50 + n / 62500, (n / 250) % 250, n % 250 + 1), "ipMode": "VIP"}]}});
            world.kube.replace("v1/Service", s);
        }
        let Some(selector) = svc["spec"]["selector"]
            .as_object()
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        let text: Vec<String> = selector
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect();
        let Ok(selector) = LabelSelector::parse(&text.join(",")) else {
            continue;
        };
        let pods: Vec<Value> = world
            .kube
            .list("v1/Pod", Some(ns.as_str()))
            .filter(|p| {
                selector.matches_object(p) && p["status"]["podIP"].is_string() && !is_terminating(p)
            })
            .cloned()
            .collect();
        let address = |p: &Value| json!({"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"], "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"], "uid": p["metadata"]["uid"]}});
        let ready: Vec<Value> = pods
            .iter()
            .filter(|p| is_pod_ready(p))
            .map(address)
            .collect();
        let not_ready: Vec<Value> = pods
            .iter()
            .filter(|p| !is_pod_ready(p))
            .map(address)
            .collect();
        let sample = pods.first().cloned().unwrap_or(json!({}));
        let ports: Vec<Value> = svc["spec"]["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                let mut e = json!({"port": target_port(p, &sample), "protocol": p["protocol"].as_str().unwrap_or("TCP")});
                if let Some(n) = p["name"].as_str() {
                    e["name"] = json!(n);
                }
                e
            })
            .collect();
        let mut subset = json!({"ports": ports});
        if !ready.is_empty() {
            subset["addresses"] = json!(ready);
        }
        if !not_ready.is_empty() {
            subset["notReadyAddresses"] = json!(not_ready);
        }
        let subsets = if pods.is_empty() {
            json!(null)
        } else {
            json!([subset])
        };
        let labels = svc["metadata"]["labels"].clone();
        match world.kube.get("v1/Endpoints", &ns, &name).cloned() {
            Some(mut ep) => {
                if ep["subsets"] != subsets {
                    ep["subsets"] = subsets.clone();
                    if subsets.is_null() {
                        ep.as_object_mut().map(|m| m.remove("subsets"));
                    }
                    write_if_changed(world, "v1/Endpoints", ep);
                }
            }
            None => {
                let mut ep = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": ns, "labels": labels}});
                if !subsets.is_null() {
                    ep["subsets"] = subsets.clone();
                }
                create_internal(world, "v1/Endpoints", ep);
            }
        }
        // one EndpointSlice per service
        let endpoints: Vec<Value> = pods
            .iter()
            .map(|p| {
                let r = is_pod_ready(p);
                json!({"addresses": [p["status"]["podIP"]], "conditions": {"ready": r, "serving": r, "terminating": false}, "nodeName": p["spec"]["nodeName"], "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"], "uid": p["metadata"]["uid"]}})
            })
            .collect();
        let slice_name = format!("{name}-slice");
        let slice_ports: Vec<Value> = ports.clone();
        match world
            .kube
            .get("discovery.k8s.io/v1/EndpointSlice", &ns, &slice_name)
            .cloned()
        {
            Some(mut slice) => {
                if slice["endpoints"] != json!(endpoints) || slice["ports"] != json!(slice_ports) {
                    slice["endpoints"] = json!(endpoints);
                    slice["ports"] = json!(slice_ports);
                    write_if_changed(world, "discovery.k8s.io/v1/EndpointSlice", slice);
                }
            }
            None => {
                let slice = json!({
                    "apiVersion": "discovery.k8s.io/v1",
                    "kind": "EndpointSlice",
                    "metadata": {"name": slice_name, "namespace": ns, "labels": {"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                                 "ownerReferences": [super::objects::owner_ref(&svc, true)]},
                    "addressType": "IPv4",
                    "endpoints": endpoints,
                    "ports": slice_ports,
                });
                create_internal(world, "discovery.k8s.io/v1/EndpointSlice", slice);
            }
        }
    }
}
