//! The container image and the Kubernetes manifests (issue 11): the manifests parse, hold
//! what the README documents (an Indexed Job of N generators running segment
//! `JOB_COMPLETION_INDEX+1` of N with one `--start-at`, results on a shared volume, a merge Job
//! over them), agree with each other, and carry a scenario perfgate accepts. The Dockerfile
//! is multi-stage and runs as non-root; `.ci/run` builds it where Docker is available.

use std::path::{Path, PathBuf};

use perfgate::client::Registry;
use serde_yaml::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Every document of `deploy/kubernetes/<name>`.
fn docs(name: &str) -> Vec<Value> {
    let path = root().join("deploy/kubernetes").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
}

fn one(name: &str, kind: &str) -> Value {
    docs(name)
        .into_iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("{name}: no {kind}"))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v:?}"))
}

fn env<'a>(container: &'a Value, name: &str) -> &'a Value {
    container["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no env {name}"))
}

fn args(container: &Value) -> Vec<&str> {
    container["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(s)
        .collect()
}

/// The value after `flag` in `args`.
fn after<'a>(args: &[&'a str], flag: &str) -> &'a str {
    let i = args
        .iter()
        .position(|a| *a == flag)
        .unwrap_or_else(|| panic!("no {flag}"));
    args[i + 1]
}

#[test]
fn the_kubernetes_manifests_run_n_segments_from_one_start_and_merge_them() {
    let gen = one("generators.yaml", "Job");
    let spec = &gen["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let pod = &spec["template"]["spec"];
    let c = &pod["containers"][0];
    let segments: u64 = s(&env(c, "SEGMENTS")["value"]).parse().unwrap();
    assert_eq!(spec["completions"].as_u64(), Some(segments));
    assert_eq!(spec["parallelism"].as_u64(), Some(segments));
    assert_eq!(
        spec["backoffLimit"].as_u64(),
        Some(0),
        "a late retry would start alone"
    );
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    // Segment JOB_COMPLETION_INDEX+1 of N: `--segments N` with the index from the Job.
    let a = args(c);
    assert_eq!(a[0], "run");
    assert_eq!(after(&a, "--segments"), "$(SEGMENTS)");
    assert_eq!(after(&a, "--start-at"), "$(START_AT)");
    assert_eq!(
        env(c, "JOB_COMPLETION_INDEX")["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    );
    assert_eq!(
        env(c, "START_AT")["valueFrom"]["configMapKeyRef"]["name"],
        "perfgate-run"
    );
    let out = after(&a, "--out");
    assert!(out.starts_with("/results/$(START_AT)/"), "{out}");

    // The merge reads the folder the generators write, with the same scenario file.
    let merge = one("merge.yaml", "Job");
    let mpod = &merge["spec"]["template"]["spec"];
    let m = &mpod["containers"][0];
    let ma = args(m);
    assert_eq!(ma[0], "merge");
    assert_eq!(ma[1], "/results/$(START_AT)");
    assert_eq!(merge["spec"]["backoffLimit"].as_u64(), Some(0));
    let wait = &mpod["initContainers"][0];
    assert_eq!(
        s(&env(wait, "SEGMENTS")["value"]).parse::<u64>().unwrap(),
        segments
    );
    let mount = |pod: &Value, c: &Value, volume: &str| -> (String, Value) {
        let path = c["volumeMounts"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|v| v["name"] == volume)
            .map(|v| s(&v["mountPath"]).to_string())
            .unwrap_or_else(|| panic!("no mount of {volume}"));
        let source = pod["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|v| v["name"] == volume)
            .cloned()
            .unwrap();
        (path, source)
    };
    for volume in ["scenario", "results"] {
        assert_eq!(mount(pod, c, volume), mount(mpod, m, volume), "{volume}");
    }

    // The shared volume is the claim; the scenario is the ConfigMap's, and perfgate takes it.
    let pvc = one("results.yaml", "PersistentVolumeClaim");
    let (_, results) = mount(pod, c, "results");
    assert_eq!(
        results["persistentVolumeClaim"]["claimName"],
        pvc["metadata"]["name"]
    );
    let (dir, source) = mount(pod, c, "scenario");
    let cm = one("scenario.yaml", "ConfigMap");
    assert_eq!(source["configMap"]["name"], cm["metadata"]["name"]);
    assert_eq!(a[1], format!("{dir}/scenario.yaml"));
    let text = s(&cm["data"]["scenario.yaml"]);
    let registry = Registry::with_builtins();
    let names = registry.names();
    let plan = perfgate::scenario::parse(text, Path::new("scenario.yaml"), &names, |_| None)
        .unwrap_or_else(|e| panic!("the shipped scenario: {e}"));
    assert!(!plan.thresholds.is_empty(), "the merge judges thresholds");

    // The optional demo server is the service the scenario targets.
    let svc = one("demo-server.yaml", "Service");
    let port = svc["spec"]["ports"][0]["port"].as_u64().unwrap();
    assert!(
        text.contains(&format!("http://{}:{port}", s(&svc["metadata"]["name"]))),
        "{text}"
    );
}

#[test]
fn the_dockerfile_builds_apart_and_runs_the_binary_alone_as_non_root() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "multi-stage: {froms:?}");
    assert!(froms[0].contains(" AS build"), "{froms:?}");
    let runtime = &text[text.rfind("\nFROM ").unwrap()..];
    assert!(
        runtime.contains("distroless"),
        "only the binary and CA certificates"
    );
    assert!(
        !runtime.contains("\nRUN "),
        "nothing runs in the runtime stage"
    );
    let user = runtime
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER");
    assert!(!["root", "0", "0:0"].contains(&user.trim()), "{user}");
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).unwrap();
    assert!(
        ignore.lines().any(|l| l.trim() == "*"),
        "the context is only what is listed"
    );
    for needed in ["Cargo.toml", "Cargo.lock", "src/"] {
        assert!(ignore.contains(&format!("!{needed}")), "{needed}");
    }
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(ci.contains("docker build"), ".ci/run builds the image");
}
