//! Input that used to be accepted and must not be (issue 7): each is exit 2, before any load,
//! located in the file; credentials in a base URL never reach `Host` or any output; outputs
//! are written atomically and a rerun leaves no stale report; `merge` refuses the same run
//! twice and runs that did not overlap.

use std::path::Path;
use std::process::{Command, Output};

use perfgate::client::Registry;
use perfgate::scenario::{self, BaseUrl, ParamSpec, ScenarioError};

use crate::support::counting::CountingServer;
use crate::support::{perfgate, write};

fn parse(yaml: &str) -> Result<scenario::Plan, ScenarioError> {
    parse_env(yaml, &[])
}

fn parse_env(yaml: &str, env: &[(&str, &str)]) -> Result<scenario::Plan, ScenarioError> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    scenario::parse_with(
        yaml,
        Path::new("s.yaml"),
        &Registry::with_builtins(),
        move |k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()),
    )
}

fn err(yaml: &str) -> ScenarioError {
    parse(yaml).expect_err("should be rejected")
}

const HTTP: &str = "name: ok
kind: load
target:
  base_url: http://127.0.0.1:9
requests:
  - name: list
    path: /items
load:
  stages:
    - { concurrency: 1, duration: 300ms }
";

fn with(replace: &str, by: &str) -> String {
    assert!(HTTP.contains(replace), "{replace}");
    HTTP.replace(replace, by)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

// --- 1. base URLs ---------------------------------------------------------------------------

#[test]
fn base_url_ports_outside_1_to_65535_and_other_schemes_are_refused_where_written() {
    for bad in [
        "http://127.0.0.1:0",
        "http://127.0.0.1:65536",
        "http://127.0.0.1:99999",
        "\"http://127.0.0.1:\"",
    ] {
        let e = err(&with("http://127.0.0.1:9", bad));
        assert_eq!(
            (e.line, e.column, e.field.as_str()),
            (4, 3, "target.base_url"),
            "{e}"
        );
        assert!(e.message.contains("not a port number"), "{e}");
        assert!(
            e.hint.as_deref().unwrap_or("").contains("1 to 65535"),
            "{e}"
        );
    }
    let e = err(&with("http://127.0.0.1:9", "ftp://127.0.0.1:21"));
    assert_eq!((e.line, e.field.as_str()), (4, "target.base_url"), "{e}");
    assert!(e.message.contains("scheme `ftp`"), "{e}");
    // The highest port is a port.
    assert!(parse(&with("127.0.0.1:9", "127.0.0.1:65535")).is_ok());
}

#[test]
fn a_bad_or_non_http_base_url_flag_is_exit_2_before_the_run() {
    let server = CountingServer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "s.yaml",
        &with("127.0.0.1:9", &server.addr.to_string()),
    );
    for bad in [
        "ftp://127.0.0.1:21",
        "http://127.0.0.1:70000",
        "not a url",
        "http://",
    ] {
        let out = perfgate(
            &["run", path.to_str().unwrap(), "--quiet", "--base-url", bad],
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("--base-url"),
            "{bad}: {}",
            stderr(&out)
        );
    }
    assert!(server.heads().is_empty(), "no request was sent");
    assert!(!dir.path().join("reports/ok/result.json").exists());
}

// --- 2. credentials in the base URL ---------------------------------------------------------

#[test]
fn credentials_in_base_url_become_basic_auth_never_host_and_never_an_output() {
    let server = CountingServer::start();
    let dir = tempfile::tempdir().unwrap();
    let yaml = with(
        "http://127.0.0.1:9",
        &format!("http://alice:${{PASS}}@{}", server.addr),
    )
    .replace("/items", "/ok");
    let path = write(dir.path(), "s.yaml", &yaml);
    let secret = "hunter2-s3cret";
    let out = Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .args(["run", path.to_str().unwrap(), "--quiet", "--no-baseline"])
        .current_dir(dir.path())
        .env("PASS", secret)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let heads = server.heads();
    assert!(!heads.is_empty());
    // base64("alice:hunter2-s3cret")
    let token = "YWxpY2U6aHVudGVyMi1zM2NyZXQ=";
    for h in &heads {
        let host = h
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("host:"))
            .unwrap_or_else(|| panic!("no Host in {h}"));
        assert_eq!(host[5..].trim(), server.addr.to_string(), "{h}");
        assert!(!host.contains(secret) && !host.contains('@'), "{h}");
        assert!(
            h.lines()
                .any(|l| l.eq_ignore_ascii_case(&format!("authorization: Basic {token}"))),
            "{h}"
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains(secret) && !stdout.contains(token),
        "{stdout}"
    );
    assert!(!stderr(&out).contains(secret));
    let reports = dir.path().join("reports/ok");
    let mut files = 0;
    for entry in std::fs::read_dir(&reports).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(secret) && !text.contains(token));
        assert!(!text.contains("alice:"), "no credentials in any output");
        files += 1;
    }
    assert!(files >= 3, "result.json, junit.xml, summary.md at least");
}

#[test]
fn credentials_in_the_base_url_flag_are_basic_auth_too() {
    let server = CountingServer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "s.yaml", &HTTP.replace("/items", "/ok"));
    let url = format!("http://bob:pa%40ss@{}", server.addr);
    let out = perfgate(
        &[
            "run",
            path.to_str().unwrap(),
            "--quiet",
            "--no-report",
            "--base-url",
            &url,
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let heads = server.heads();
    assert!(!heads.is_empty());
    for h in &heads {
        assert!(
            !h.contains("pa%40ss") && !h.contains("pa@ss") && !h.contains("bob:"),
            "{h}"
        );
        // base64("bob:pa@ss")
        assert!(h.contains("Basic Ym9iOnBhQHNz"), "{h}");
    }
    let result = std::fs::read_to_string(dir.path().join("reports/ok/result.json")).unwrap();
    assert!(!result.contains("pa%40ss") && !result.contains("Ym9iOnBhQHNz"));
}

// --- 3. framing headers ---------------------------------------------------------------------

#[test]
fn framing_headers_are_refused_with_a_hint() {
    for name in ["Content-Length", "transfer-encoding", "Host", "Connection"] {
        let e = err(&with(
            "    path: /items",
            &format!("    path: /items\n    headers:\n      {name}: \"5\""),
        ));
        assert_eq!(e.field, format!("requests[0].headers.{name}"), "{e}");
        assert_eq!((e.line, e.column), (9, 7), "{e}");
        assert!(
            e.hint.as_deref().unwrap_or("").contains("perfgate sets"),
            "{e}"
        );
        let e = err(&with(
            "  base_url: http://127.0.0.1:9",
            &format!("  base_url: http://127.0.0.1:9\n  headers: {{ {name}: x }}"),
        ));
        assert_eq!(e.field, format!("target.headers.{name}"), "{e}");
        assert_eq!(e.line, 5, "{e}");
    }
    // Other headers are fine.
    assert!(parse(&with(
        "    path: /items",
        "    path: /items\n    headers: { Accept: text/plain }"
    ))
    .is_ok());
}

// --- 4. ${VAR} in names and thresholds ------------------------------------------------------

#[test]
fn interpolation_in_names_and_thresholds_is_refused_where_written() {
    let env = [("NAME", "from-env"), ("LIMIT", "300ms")];
    let e = parse_env(&with("name: ok", "name: ${NAME}"), &env).unwrap_err();
    assert_eq!((e.line, e.column, e.field.as_str()), (1, 1, "name"), "{e}");
    assert!(e.message.contains("cannot use `${"), "{e}");
    assert!(!e.to_string().contains("from-env"), "{e}");
    // A default is refused as well: the name may not depend on the environment.
    let e = parse_env(&with("name: ok", "name: ${NAME:-ok}"), &[]).unwrap_err();
    assert_eq!(e.field, "name", "{e}");
    let e = parse_env(&with("  - name: list", "  - name: list-${NAME}"), &env).unwrap_err();
    assert_eq!((e.line, e.column), (6, 5), "{e}");
    assert_eq!(e.field, "requests[0].name", "{e}");
    let e = parse_env(
        &format!("{HTTP}thresholds:\n  - error_rate < 1%\n  - p95 < ${{LIMIT}}\n"),
        &env,
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (13, 5), "{e}");
    assert_eq!(e.field, "thresholds[1]", "{e}");
    assert!(e.hint.unwrap().contains("write the limit in the file"));
    // Elsewhere, ${VAR} is as before.
    assert!(parse_env(&with("    path: /items", "    path: /items/${NAME}"), &env).is_ok());
}

// --- 5. declared params of functions --------------------------------------------------------

const CALL: &str = "name: fn
kind: load
requests:
  - name: hash
    call: builtin.sha256
    params:
      size: 4096
load:
  stages:
    - { concurrency: 1, duration: 300ms }
";

#[test]
fn builtin_params_are_checked_at_validate_time() {
    let e = err(&CALL.replace("size: 4096", "size: -1"));
    assert_eq!((e.line, e.column), (7, 7), "{e}");
    assert_eq!(e.field, "requests[0].params.size");
    assert!(e.message.contains("a whole number from 0 to"), "{e}");
    let e = err(&CALL.replace("size: 4096", "size: big"));
    assert_eq!(e.field, "requests[0].params.size");
    let e = err(&CALL.replace("size: 4096", "sise: 10"));
    assert_eq!(e.field, "requests[0].params.sise");
    assert!(
        e.hint.clone().unwrap().contains("did you mean `size`"),
        "{e}"
    );
    let e = err(&CALL
        .replace("builtin.sha256", "builtin.noop")
        .replace("size: 4096", "size: 1"));
    assert!(e.hint.clone().unwrap().contains("takes no params"), "{e}");
    let e = err(&CALL
        .replace("builtin.sha256", "builtin.sleep")
        .replace("size: 4096", "ms: 1.5"));
    assert!(e.message.contains("whole number"), "{e}");
    assert!(parse(CALL).is_ok());

    // The CLI says it too, exit 2.
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "f.yaml",
        &CALL.replace("size: 4096", "size: -1"),
    );
    let out = perfgate(&["validate", path.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("f.yaml:7:7: requests[0].params.size"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_user_function_declares_its_params_or_stays_unchecked() {
    let mut r = Registry::new();
    r.register_with_params(
        "shop.quote",
        vec![
            ParamSpec::whole("qty", 1, 1000).required(),
            ParamSpec::string("sku"),
        ],
        |_ctx| async { Ok(()) },
    );
    r.register("shop.free", |_ctx| async { Ok(()) });
    let yaml = |call: &str, params: &str| {
        format!("name: s\nkind: load\nrequests:\n  - name: q\n    call: {call}\n    params: {params}\nload:\n  stages: [{{ concurrency: 1, duration: 1s }}]\n")
    };
    let p = |call: &str, params: &str| {
        scenario::parse_with(&yaml(call, params), Path::new("u.yaml"), &r, |_| None)
    };
    assert!(p("shop.quote", "{ qty: 3, sku: abc }").is_ok());
    let e = p("shop.quote", "{ sku: abc }").unwrap_err();
    assert!(e.message.contains("needs param `qty`"), "{e}");
    let e = p("shop.quote", "{ qty: 0 }").unwrap_err();
    assert!(e.message.contains("from 1 to 1000"), "{e}");
    let e = p("shop.quote", "{ qty: 1, skus: x }").unwrap_err();
    assert!(
        e.hint.clone().unwrap().contains("did you mean `sku`"),
        "{e}"
    );
    // Registered without declarations: anything goes, as before.
    assert!(p("shop.free", "{ whatever: [1, 2] }").is_ok());
}

// --- 6. BOM, duplicate keys, plain words ----------------------------------------------------

#[test]
fn a_byte_order_mark_is_accepted_and_positions_stay_right() {
    let p = parse(&format!("\u{feff}{HTTP}")).unwrap();
    assert_eq!(p.name, "ok");
    let e = err(&format!(
        "\u{feff}{}",
        with("concurrency: 1", "concurrency: 0")
    ));
    assert_eq!((e.line, e.column), (10, 9), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = vec![0xef, 0xbb, 0xbf];
    bytes.extend_from_slice(CALL.as_bytes());
    std::fs::write(dir.path().join("bom.yaml"), bytes).unwrap();
    let out = perfgate(&["validate", "bom.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_duplicate_key_points_at_the_second_occurrence() {
    let e = err(&format!("{HTTP}name: again\n"));
    assert_eq!((e.line, e.column), (11, 1), "{e}");
    assert_eq!(e.field, "name");
    assert!(e.message.contains("given twice"), "{e}");
    let e = err(&with(
        "    path: /items",
        "    path: /items\n    path: /other",
    ));
    assert_eq!((e.line, e.column), (8, 5), "{e}");
    assert_eq!(e.field, "requests[0].path");
}

#[test]
fn type_messages_use_plain_words_not_rust_types() {
    let cases = [
        (with("concurrency: 1", "concurrency: 1.5"), "a whole number"),
        (
            with("concurrency: 1", "concurrency: 99999999999999999999999"),
            "too large",
        ),
        ("- a\n- b\n".to_string(), "a scenario"),
        (with("    path: /items", "    path: [a]"), "text"),
        ("name: x\nkind: load\nrequests: 5\n".to_string(), "a list"),
    ];
    for (yaml, words) in &cases {
        let e = err(yaml);
        let text = e.to_string();
        assert!(text.contains(words), "{text}");
        for rust in [
            "i64",
            "u128",
            "u64",
            "RawScenario",
            "struct",
            "sequence",
            "f64",
        ] {
            assert!(!text.contains(rust), "{rust} in: {text}");
        }
    }
}

// --- 7. --out that cannot be written --------------------------------------------------------

#[test]
fn an_out_that_is_a_file_is_exit_2_before_any_load() {
    let server = CountingServer::start();
    let dir = tempfile::tempdir().unwrap();
    let yaml = with("127.0.0.1:9", &server.addr.to_string()).replace("/items", "/ok");
    let path = write(dir.path(), "s.yaml", &yaml);
    write(dir.path(), "taken", "a file, not a folder");
    let out = perfgate(
        &["run", path.to_str().unwrap(), "--quiet", "--out", "taken"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("taken"), "{}", stderr(&out));
    assert!(stderr(&out).contains("not a folder"), "{}", stderr(&out));
    assert!(server.received().is_empty(), "refused before any request");

    // A real result, for the commands that read one.
    let ok = perfgate(
        &[
            "run",
            path.to_str().unwrap(),
            "--quiet",
            "--out",
            "r",
            "--no-baseline",
        ],
        dir.path(),
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    for args in [
        vec!["report", "r/result.json", "--out", "taken"],
        vec!["merge", "r/result.json", "r2/result.json", "--out", "taken"],
    ] {
        if args[0] == "merge" {
            // A second, overlapping run of its own.
            let mut v: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(dir.path().join("r/result.json")).unwrap(),
            )
            .unwrap();
            v["run_id"] = "another-run".into();
            std::fs::create_dir_all(dir.path().join("r2")).unwrap();
            write(&dir.path().join("r2"), "result.json", &v.to_string());
        }
        let out = perfgate(&args, dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("not a folder"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // `compare --out` too (a baseline first, so only the folder is wrong).
    let refresh = perfgate(
        &[
            "baseline",
            "refresh",
            path.to_str().unwrap(),
            "--from",
            "r/result.json",
            "--baseline",
            "b.json",
        ],
        dir.path(),
    );
    assert_eq!(refresh.status.code(), Some(0), "{}", stderr(&refresh));
    let out = perfgate(
        &[
            "compare",
            "r/result.json",
            "--baseline",
            "b.json",
            "--out",
            "taken",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // `baseline refresh` into a path whose folder is a file: refused before it runs.
    let before = server.received().len();
    let out = perfgate(
        &[
            "baseline",
            "refresh",
            path.to_str().unwrap(),
            "--baseline",
            "taken/b.json",
            "--quiet",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        server.received().len(),
        before,
        "refused before any request"
    );
    assert!(server
        .received()
        .iter()
        .all(|r| r.method == "GET" && r.path == "/ok"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("taken")).unwrap(),
        "a file, not a folder"
    );
}

#[cfg(unix)]
#[test]
fn an_out_without_write_permission_is_exit_2_before_any_load() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    // As root, permissions do not stop writes; /proc refuses new entries even to root.
    let target = if std::fs::write(locked.join("probe"), "x").is_ok() {
        if !Path::new("/proc/self").exists() {
            return;
        }
        "/proc/perfgate-out".to_string()
    } else {
        "locked".to_string()
    };
    let path = write(dir.path(), "s.yaml", CALL);
    let out = perfgate(
        &["run", path.to_str().unwrap(), "--quiet", "--out", &target],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot"), "{}", stderr(&out));
    assert!(stderr(&out).contains("hint: pass a writable folder with --out"));
}

// --- 8. merge refusals ----------------------------------------------------------------------

#[test]
fn merge_refuses_the_same_run_twice_and_runs_that_did_not_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "f.yaml", CALL);
    let out = perfgate(
        &[
            "run",
            path.to_str().unwrap(),
            "--quiet",
            "--no-report",
            "--out",
            "a",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("a/result.json")).unwrap())
            .unwrap();
    let id = a["run_id"].as_str().unwrap().to_string();
    assert!(!id.is_empty(), "every run has an id");

    // The same result twice, even under another name.
    std::fs::create_dir_all(dir.path().join("copy")).unwrap();
    std::fs::copy(
        dir.path().join("a/result.json"),
        dir.path().join("copy/result.json"),
    )
    .unwrap();
    let out = perfgate(
        &["merge", "a/result.json", "copy/result.json", "--out", "m"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("given twice"), "{}", stderr(&out));
    assert!(stderr(&out).contains(&id), "{}", stderr(&out));
    // --allow-disjoint does not let the same run in twice.
    let out = perfgate(
        &[
            "merge",
            "a/result.json",
            "copy/result.json",
            "--allow-disjoint",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));

    // Another run an hour later: disjoint.
    let variant = |name: &str, run_id: &str, shift_s: i64| {
        let mut v = a.clone();
        let start = chrono::DateTime::parse_from_rfc3339(a["started_at"].as_str().unwrap())
            .unwrap()
            + chrono::Duration::seconds(shift_s);
        v["started_at"] = start.to_rfc3339().into();
        v["run_id"] = run_id.into();
        std::fs::create_dir_all(dir.path().join(name)).unwrap();
        write(&dir.path().join(name), "result.json", &v.to_string());
    };
    variant("later", "later-run", 3600);
    let out = perfgate(
        &["merge", "a/result.json", "later/result.json", "--out", "m"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("did not overlap"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--allow-disjoint"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("m/result.json").exists());
    let out = perfgate(
        &[
            "merge",
            "a/result.json",
            "later/result.json",
            "--out",
            "m",
            "--allow-disjoint",
            "--no-report",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // A run that overlapped merges, and the merged result lists both ids.
    variant("same-time", "same-time-run", 0);
    let out = perfgate(
        &[
            "merge",
            "a/result.json",
            "same-time/result.json",
            "--out",
            "m2",
            "--no-report",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("m2/result.json")).unwrap())
            .unwrap();
    assert_eq!(m["run_id"], format!("{id}+same-time-run"));
    // A merged result cannot take one of its own runs again.
    let out = perfgate(
        &["merge", "m2/result.json", "a/result.json", "--out", "m3"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("given twice"));
}

#[test]
fn every_run_gets_its_own_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "f.yaml", CALL);
    let mut ids = Vec::new();
    for out in ["x", "y"] {
        let o = perfgate(
            &[
                "run",
                path.to_str().unwrap(),
                "--quiet",
                "--no-report",
                "--out",
                out,
            ],
            dir.path(),
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(out).join("result.json")).unwrap(),
        )
        .unwrap();
        ids.push(v["run_id"].as_str().unwrap().to_string());
    }
    assert!(!ids[0].is_empty());
    assert_ne!(ids[0], ids[1]);
}

// --- 9. atomic outputs, no stale reports ----------------------------------------------------

#[test]
fn a_rerun_with_no_report_removes_the_previous_html_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "f.yaml", CALL);
    let run = |extra: &[&str]| {
        let mut args = vec!["run", path.to_str().unwrap(), "--quiet", "--out", "out"];
        args.extend_from_slice(extra);
        let o = perfgate(&args, dir.path());
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    };
    run(&[]);
    let out = dir.path().join("out");
    assert!(out.join("report.html").exists());
    let pngs = |d: &Path| {
        std::fs::read_dir(d)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".png")
            })
            .count()
    };
    assert!(pngs(&out) > 0);
    write(&out, "notes.txt", "mine");
    write(&out, "other.html", "mine too");
    run(&["--no-report"]);
    assert!(out.join("result.json").exists());
    assert!(out.join("summary.md").exists());
    assert!(
        !out.join("report.html").exists(),
        "stale report.html removed"
    );
    assert_eq!(pngs(&out), 0, "stale charts removed");
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("other.html")).unwrap(),
        "mine too"
    );
    let leftovers: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary files left: {leftovers:?}"
    );
}

#[test]
fn the_base_url_without_credentials_is_unchanged() {
    let p = parse(HTTP).unwrap();
    assert_eq!(
        p.target.base_url,
        Some(BaseUrl::Url("http://127.0.0.1:9".into()))
    );
    assert!(p.target.headers.is_empty());
}

#[test]
fn a_broken_result_file_is_described_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "f.yaml", CALL);
    let out = perfgate(
        &[
            "run",
            path.to_str().unwrap(),
            "--quiet",
            "--no-report",
            "--out",
            "a",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("a/result.json")).unwrap())
            .unwrap();
    v["totals"]["requests"] = "many".into();
    write(dir.path(), "broken.json", &v.to_string());
    let out = perfgate(&["report", "broken.json", "--out", "r"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("expected a whole number"), "{text}");
    assert!(!text.contains("u64"), "{text}");
}

#[test]
fn credentials_and_an_authorization_header_together_are_refused() {
    let creds = with("http://127.0.0.1:9", "http://u:p4ss@127.0.0.1:9");
    let p = parse(&creds).unwrap();
    assert_eq!(
        p.target.base_url,
        Some(BaseUrl::Url("http://127.0.0.1:9".into()))
    );
    assert_eq!(p.secrets.redact("x p4ss y"), "x *** y");
    let e = err(&creds.replace(
        "    path: /items",
        "    path: /items\n    headers: { Authorization: Bearer t }",
    ));
    assert_eq!(e.field, "requests[0].headers.Authorization", "{e}");
    assert_eq!(e.line, 8, "{e}");
    let e = err(&creds.replace(
        "  base_url: http://u:p4ss@127.0.0.1:9",
        "  base_url: http://u:p4ss@127.0.0.1:9\n  headers: { authorization: Bearer t }",
    ));
    assert_eq!(e.field, "target.headers.authorization", "{e}");
    assert!(!e.to_string().contains("p4ss"), "{e}");
}
