//! Monitoring (compose/prometheus, compose/grafana) against what the services really export:
//! every live `/metrics` passes `promtool check metrics`; every metric a dashboard panel or a
//! rule names is exported by a service (or is Prometheus's, the blackbox exporter's or
//! Redpanda's, listed below); every alert links its runbook heading in compose/README.md and is
//! unit-tested both ways; Prometheus scrapes each compose service on its port, and the local
//! config ci/dev --ops writes has the same jobs and rules; Grafana is provisioned with
//! Prometheus and the dashboard; Console leaves the dead-letter topic undecoded.
//! The rules' behaviour itself is proven by `promtool test rules` (ci/test).

use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use system_tests::Stack;
use system_tests::compose_file::merged;
use testkit::Tablet;
use yaml_rust2::{Yaml, YamlLoader};

fn repo() -> PathBuf {
    system_tests::repo()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn yaml(path: &str) -> Yaml {
    YamlLoader::load_from_str(&read(path)).unwrap_or_else(|e| panic!("{path} is not YAML: {e}")).remove(0)
}

fn files_in(dir: &str, extension: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo().join(dir))
        .unwrap_or_else(|e| panic!("reading {dir}: {e}"))
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(extension))
        .map(|name| format!("{dir}/{name}"))
        .collect();
    files.sort();
    files
}

fn strings(node: &Yaml) -> Vec<String> {
    node.as_vec().map(|v| v.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// Series that no service of ours exports, and who does. Redpanda's cannot be checked here
/// (there is no Redpanda on this machine): compose/README.md lists them for a Docker host.
const NOT_OURS: [(&str, &str); 5] = [
    ("up", "Prometheus, per target"),
    ("ALERTS", "Prometheus, per alert"),
    ("probe_success", "the blackbox exporter"),
    ("redpanda_kafka_max_offset", "Redpanda's /public_metrics"),
    ("redpanda_kafka_consumer_group_committed_offset", "Redpanda's /public_metrics"),
];

/// Recording rules computed from the clock alone (the opening hours), selecting no series.
const CLOCK_ONLY: [&str; 1] = ["restaurant:open"];

/// Labels Prometheus gives every scraped series (and the blackbox job gives its probes).
const TARGET_LABELS: [&str; 3] = ["job", "instance", "alertstate"];

// ---------------------------------------------------------------------------------------------
// PromQL: the series an expression selects.

/// One vector selector in a PromQL expression: a metric name and the labels it matches on.
#[derive(Debug, PartialEq)]
struct Selector {
    name: String,
    matchers: Vec<(String, String)>,
}

const AGGREGATIONS_AND_KEYWORDS: [&str; 24] = [
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "atan2",
];

/// The selectors of `expr`: every identifier that is not a function, an aggregation, a keyword,
/// a label in a grouping clause, a number or inside a string or a range. Enough PromQL for our
/// rules and panels; `promql_selectors_are_found_and_nothing_else` shows what it reads.
fn selectors(expr: &str) -> Vec<Selector> {
    let chars: Vec<char> = expr.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    let next_non_space = |from: usize| (from..chars.len()).find(|&j| !chars[j].is_whitespace());
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            i = skip_string(&chars, i);
        } else if c == '[' {
            i = chars[i..].iter().position(|&x| x == ']').map_or(chars.len(), |p| i + p + 1);
        } else if c == '{' {
            // A selector without a name (`{job="x"}`) would select any metric: not used here.
            let (matchers, end) = label_matchers(&chars, i);
            assert!(matchers.is_empty(), "a selector without a metric name in {expr}");
            i = end;
        } else if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            // A number or a duration (`5m`, `1e3`, `0.99`).
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let after = next_non_space(i).map(|j| chars[j]);
            if ["by", "without", "on", "ignoring", "group_left", "group_right"].contains(&word.as_str()) {
                if after == Some('(') {
                    let open = next_non_space(i).expect("unwrap: found above");
                    i = chars[open..].iter().position(|&x| x == ')').map_or(chars.len(), |p| open + p + 1);
                }
            } else if AGGREGATIONS_AND_KEYWORDS.contains(&word.as_str())
                || ["Inf", "NaN", "inf", "nan"].contains(&word.as_str())
                || after == Some('(')
            {
                // An aggregation, a keyword, a number, or a function call.
            } else if after == Some('{') {
                let open = next_non_space(i).expect("unwrap: found above");
                let (matchers, end) = label_matchers(&chars, open);
                found.push(Selector { name: word, matchers });
                i = end;
            } else {
                found.push(Selector { name: word, matchers: Vec::new() });
            }
        } else {
            i += 1;
        }
    }
    found
}

/// The index after the string literal that opens at `start`.
fn skip_string(chars: &[char], start: usize) -> usize {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() && chars[i] != quote {
        i += if chars[i] == '\\' { 2 } else { 1 };
    }
    i + 1
}

/// The `name op "value"` pairs of the matcher list that opens at `open`, and the index after it.
fn label_matchers(chars: &[char], open: usize) -> (Vec<(String, String)>, usize) {
    let mut matchers = Vec::new();
    let mut i = open + 1;
    loop {
        while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
            i += 1;
        }
        if i >= chars.len() || chars[i] == '}' {
            return (matchers, i + 1);
        }
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        while i < chars.len() && !['"', '\'', '`'].contains(&chars[i]) {
            i += 1;
        }
        let end = skip_string(chars, i);
        let value: String = chars[i + 1..end - 1].iter().collect();
        matchers.push((name, value));
        i = end;
    }
}

#[test]
fn promql_selectors_are_found_and_nothing_else() {
    let found = selectors(
        r#"histogram_quantile(0.99, sum by (service, le) (rate(http_request_duration_seconds_bucket{status=~"5..", route!="/x"}[5m])))
           / on (service) group_left max without (instance) (up{job="orders"} offset 1h) > bool 0.5
           or absent(restaurant:open) unless sum(rate(orders_placed_total[1m])) * 1e3"#,
    );
    let pairs = |list: &[(&str, &str)]| list.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
    assert_eq!(
        found,
        [
            Selector {
                name: "http_request_duration_seconds_bucket".into(),
                matchers: pairs(&[("status", "5.."), ("route", "/x")])
            },
            Selector { name: "up".into(), matchers: pairs(&[("job", "orders")]) },
            Selector { name: "restaurant:open".into(), matchers: vec![] },
            Selector { name: "orders_placed_total".into(), matchers: vec![] },
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// What the dashboard and the rules name.

/// Every PromQL expression of the dashboards and the rule files, with where it comes from.
fn expressions() -> Vec<(String, String)> {
    let mut all = Vec::new();
    for file in files_in("compose/grafana/dashboards", ".json") {
        let dashboard: serde_json::Value = serde_json::from_str(&read(&file)).expect("unwrap: the dashboard is JSON");
        for panel in dashboard["panels"].as_array().expect("panels") {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr = target["expr"].as_str().expect("every target has a PromQL expression");
                all.push((format!("{file}: panel {:?}", panel["title"]), expr.to_owned()));
            }
        }
    }
    for file in files_in("compose/prometheus/rules", ".yml") {
        for group in yaml(&file)["groups"].as_vec().expect("groups") {
            for rule in group["rules"].as_vec().expect("rules") {
                let name = rule["record"].as_str().or(rule["alert"].as_str()).expect("a record or an alert");
                all.push((format!("{file}: {name}"), rule["expr"].as_str().expect("an expr").to_owned()));
            }
        }
    }
    all
}

/// The names the recording rules define.
fn recorded() -> BTreeSet<String> {
    files_in("compose/prometheus/rules", ".yml")
        .iter()
        .flat_map(|file| yaml(file)["groups"].as_vec().expect("groups").clone())
        .flat_map(|group| group["rules"].as_vec().expect("rules").clone())
        .filter_map(|rule| rule["record"].as_str().map(str::to_owned))
        .collect()
}

/// The jobs compose's Prometheus scrapes.
fn compose_jobs() -> BTreeSet<String> {
    yaml("compose/prometheus/prometheus.yml")["scrape_configs"]
        .as_vec()
        .expect("scrape_configs")
        .iter()
        .filter_map(|job| job["job_name"].as_str().map(str::to_owned))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The live services.

/// Each sample name in an exposition, with the label names its samples carry.
fn exposed(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let name = line.split(['{', ' ']).next().expect("unwrap: split yields one piece").to_owned();
        let labels = names.entry(name).or_default();
        if let Some((_, rest)) = line.split_once('{') {
            let chars: Vec<char> = format!("{{{rest}").chars().collect();
            labels.extend(label_matchers(&chars, 0).0.into_iter().map(|(label, _)| label));
        }
    }
    names
}

async fn metrics_text(addr: SocketAddr) -> String {
    let response = reqwest::get(format!("http://{addr}/metrics")).await.expect("unwrap: /metrics answers");
    assert!(response.status().is_success(), "{addr}/metrics: {}", response.status());
    response.text().await.expect("unwrap: a text body")
}

/// `promtool check metrics` reads an exposition on stdin and lints it (names, types, help).
fn promtool_check_metrics(service: &str, text: &str) {
    use std::io::Write as _;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool is installed (ci/test installs Debian's prometheus)");
    child.stdin.take().expect("unwrap: piped").write_all(text.as_bytes()).expect("unwrap: promtool reads stdin");
    let output = child.wait_with_output().expect("unwrap: promtool runs");
    assert!(
        output.status.success(),
        "promtool check metrics on {service}'s /metrics:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

const CREATE_ORDER: &str = "mutation($input: CreateOrderInput!) { createOrder(input: $input) { id } }";

/// An order from a customer to a connected tablet, so that every series that appears only once
/// used (per-route HTTP, per-method gRPC, per-backend calls) is there; then each service's
/// exposition passes promtool, and every name the dashboard and the rules use is exported.
#[actix_rt::test]
async fn every_metric_the_dashboard_and_rules_name_is_exported_and_every_exposition_is_valid() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let (_, customer) = stack.register_customer().await?;
    let chef = stack.kitchen_staff().await?;
    let mut tablet = Tablet::connect_with_token(stack.kitchen.http_addr(), &chef).await?;
    tablet.next_of_type("snapshot").await?;
    let (item, _) = stack.menu_ids("MAIN", 1).await?.remove(0);
    let answer = stack
        .graphql_as(
            Some(&customer),
            CREATE_ORDER,
            json!({ "input": { "items": [{ "menuItemId": item, "quantity": 1 }] } }),
        )
        .await?;
    assert_eq!(answer["errors"], serde_json::Value::Null, "{answer}");
    let ticket = tablet.next_of_type("ticket").await?;
    // A whole-ticket bump and a station's item bump: the speed-of-service histograms have
    // series once a stage and a station were timed.
    let order_id = ticket["ticket"]["orderId"].as_str().expect("a ticket names its order").to_owned();
    let station = ticket["ticket"]["items"][0]["station"].as_str().expect("a line has a station").to_owned();
    tablet.send_json(&json!({ "type": "bump", "orderId": order_id })).await?;
    tablet.next_of_type("ack").await?;
    tablet.send_json(&json!({ "type": "stationBump", "orderId": order_id, "station": station })).await?;
    tablet.next_of_type("ack").await?;

    let services = [
        ("orders", stack.orders.ops_addr()),
        ("kitchen", stack.kitchen.ops_addr()),
        ("gateway", stack.gateway.ops_addr()),
        ("users", stack.users.ops_addr()),
    ];
    // A request on each public port (a load balancer's probe), timed like every public request;
    // scrapes go to the ops port, which is not.
    for addr in
        [stack.orders.http_addr(), stack.kitchen.http_addr(), stack.gateway.http_addr(), stack.users.http_addr()]
    {
        reqwest::get(format!("http://{addr}/healthz")).await?.error_for_status()?;
    }
    // Series that exist once something was observed.
    let wanted: [(&str, &str); 9] = [
        ("orders", "http_request_duration_seconds_bucket"),
        ("kitchen", "http_request_duration_seconds_bucket"),
        ("gateway", "http_request_duration_seconds_bucket"),
        ("users", "http_request_duration_seconds_bucket"),
        ("orders", "grpc_request_duration_seconds_bucket"),
        ("users", "grpc_request_duration_seconds_bucket"),
        ("gateway", "gateway_backend_calls_total"),
        ("kitchen", "kitchen_stage_seconds_bucket"),
        ("kitchen", "kitchen_station_seconds_bucket"),
    ];
    let expositions: Vec<(&str, String)> =
        testkit::eventually("every service's per-route and per-call series", || async {
            let mut texts = Vec::new();
            for (service, addr) in services {
                texts.push((service, metrics_text(addr).await));
            }
            let present = wanted
                .iter()
                .all(|(service, name)| texts.iter().any(|(s, text)| s == service && exposed(text).contains_key(*name)));
            present.then_some(texts)
        })
        .await;

    // Which services export each sample name, and with which labels.
    let mut exporters: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for (service, text) in &expositions {
        promtool_check_metrics(service, text);
        for (name, labels) in exposed(text) {
            assert!(labels.contains("service"), "{service}: {name} has no `service` label");
            let entry = exporters.entry(name).or_default();
            entry.0.insert((*service).to_owned());
            entry.1.extend(labels);
        }
    }

    let recorded = recorded();
    let jobs = compose_jobs();
    let not_ours: BTreeMap<&str, &str> = NOT_OURS.into_iter().collect();
    let mut problems = Vec::new();
    for (place, expr) in expressions() {
        let found = selectors(&expr);
        if found.is_empty() && !CLOCK_ONLY.iter().any(|rule| place.ends_with(&format!(": {rule}"))) {
            problems.push(format!("{place}: selects no series: {expr}"));
        }
        for Selector { name, matchers } in found {
            for (label, value) in &matchers {
                if label == "job" {
                    let unknown: Vec<&str> = value.split('|').filter(|job| !jobs.contains(*job)).collect();
                    if !unknown.is_empty() {
                        problems.push(format!("{place}: job {unknown:?} is not scraped by compose's Prometheus"));
                    }
                }
            }
            if name.contains(':') {
                if !recorded.contains(&name) {
                    problems.push(format!("{place}: {name} is not a recording rule"));
                }
            } else if let Some((services, labels)) = exporters.get(&name) {
                for (label, value) in &matchers {
                    if !labels.contains(label) && !TARGET_LABELS.contains(&label.as_str()) {
                        problems.push(format!("{place}: {name} has no label {label}"));
                    }
                    if label == "service" && !value.split('|').all(|s| services.contains(s)) {
                        problems.push(format!("{place}: {name} is exported by {services:?}, not {value}"));
                    }
                }
            } else if !not_ours.contains_key(name.as_str()) {
                problems.push(format!("{place}: no service exports {name}"));
            }
        }
    }
    assert!(problems.is_empty(), "the dashboard and rules name what is not there:\n{}", problems.join("\n"));

    // The names listed as not ours are really used, and really not exported by a service.
    let used: BTreeSet<String> =
        expressions().iter().flat_map(|(_, expr)| selectors(expr)).map(|selector| selector.name).collect();
    for (name, owner) in NOT_OURS {
        assert!(used.contains(name), "{name} ({owner}) is listed but no panel or rule uses it");
        assert!(!exporters.contains_key(name), "{name} is exported by a service: not {owner}'s");
    }
    stack.stop().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Alerts: runbooks and unit tests.

/// GitHub's anchor for a Markdown heading.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn alerts() -> Vec<Yaml> {
    yaml("compose/prometheus/rules/alerts.yml")["groups"]
        .as_vec()
        .expect("groups")
        .iter()
        .flat_map(|group| group["rules"].as_vec().expect("rules").clone())
        .filter(|rule| rule["alert"].as_str().is_some())
        .collect()
}

#[test]
fn every_alert_links_its_runbook_heading_in_the_compose_readme() {
    let readme = read("compose/README.md");
    let anchors: BTreeSet<String> =
        readme.lines().filter_map(|line| line.strip_prefix('#')).map(|h| slug(h.trim_start_matches('#'))).collect();
    let alerts = alerts();
    assert!(alerts.len() >= 11, "the issue's alerts are all there");
    for alert in alerts {
        let name = alert["alert"].as_str().expect("unwrap: filtered on it");
        let url = alert["annotations"]["runbook_url"].as_str().unwrap_or_else(|| panic!("{name} has no runbook_url"));
        let anchor = url.strip_prefix("compose/README.md#").unwrap_or_else(|| panic!("{name}: {url}"));
        assert_eq!(anchor, slug(name), "{name}'s runbook is the heading named as the alert");
        assert!(anchors.contains(anchor), "compose/README.md has no heading for #{anchor} ({name})");
        assert!(alert["annotations"]["summary"].as_str().is_some(), "{name} has no summary");
        assert!(["page", "ticket"].contains(&alert["labels"]["severity"].as_str().unwrap_or("")), "{name} severity");
    }
}

#[test]
fn every_alert_has_a_unit_test_that_fires_it_and_one_that_does_not() {
    let rules: BTreeSet<String> = files_in("compose/prometheus/rules", ".yml")
        .iter()
        .map(|f| f.trim_start_matches("compose/prometheus/").to_owned())
        .collect();
    let (mut fired, mut quiet) = (BTreeSet::new(), BTreeSet::new());
    let test_files = files_in("compose/prometheus/tests", ".yml");
    assert!(!test_files.is_empty(), "no rule tests");
    for file in test_files {
        let suite = yaml(&file);
        let loaded: BTreeSet<String> =
            strings(&suite["rule_files"]).iter().map(|f| f.trim_start_matches("../").to_owned()).collect();
        assert_eq!(loaded, rules, "{file} does not load every rule file (alerts use recording rules)");
        for case in suite["tests"].as_vec().expect("tests") {
            for check in case["alert_rule_test"].as_vec().into_iter().flatten() {
                let name = check["alertname"].as_str().expect("an alertname").to_owned();
                if check["exp_alerts"].as_vec().is_some_and(|alerts| !alerts.is_empty()) {
                    fired.insert(name);
                } else {
                    quiet.insert(name);
                }
            }
        }
    }
    for alert in alerts() {
        let name = alert["alert"].as_str().expect("unwrap: filtered on it");
        assert!(fired.contains(name), "no rule test shows {name} firing");
        assert!(quiet.contains(name), "no rule test shows {name} staying quiet");
    }
}

// ---------------------------------------------------------------------------------------------
// Compose wiring.

fn compose() -> Yaml {
    yaml("compose/docker-compose.yml")
}

/// A compose service's definition with `<<: *anchor` merged in (compose's merge keys).
fn service(compose: &Yaml, name: &str) -> BTreeMap<String, Yaml> {
    let definition = merged(&compose["services"][name]);
    assert!(!definition.is_empty(), "compose has no {name} service");
    let environment = merged(definition.get("environment").unwrap_or(&Yaml::Null));
    let mut definition = definition;
    definition
        .insert("environment".into(), Yaml::Hash(environment.into_iter().map(|(k, v)| (Yaml::String(k), v)).collect()));
    definition
}

/// `(names, port)` of each DNS service-discovery entry of a scrape job.
fn dns_targets(job: &Yaml) -> Vec<(Vec<String>, i64)> {
    job["dns_sd_configs"]
        .as_vec()
        .into_iter()
        .flatten()
        .map(|sd| {
            assert_eq!(sd["type"].as_str(), Some("A"), "compose's DNS answers A records");
            (strings(&sd["names"]), sd["port"].as_i64().expect("a port"))
        })
        .collect()
}

#[test]
fn prometheus_scrapes_every_container_of_every_service_on_its_port_and_the_brokers() {
    let compose = compose();
    let config = yaml("compose/prometheus/prometheus.yml");
    let jobs: BTreeMap<String, Yaml> = config["scrape_configs"]
        .as_vec()
        .expect("scrape_configs")
        .iter()
        .map(|job| (job["job_name"].as_str().expect("a job_name").to_owned(), job.clone()))
        .collect();
    let mut readiness_expected = Vec::new();
    for (name, variable) in [
        ("orders", "ORDERS_OPS_PORT"),
        ("kitchen", "KITCHEN_OPS_PORT"),
        ("gateway", "GATEWAY_OPS_PORT"),
        ("users", "USERS_OPS_PORT"),
    ] {
        let port: i64 = service(&compose, name)["environment"][variable]
            .as_str()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("compose sets {variable} for {name}"));
        let job = jobs.get(name).unwrap_or_else(|| panic!("Prometheus has no {name} job"));
        assert_eq!(
            dns_targets(job),
            [(vec![name.to_owned()], port)],
            "{name}: every container, on its internal ops port"
        );
        assert!(job["metrics_path"].is_badvalue(), "{name} is scraped at /metrics");
        readiness_expected.push((vec![name.to_owned()], port));
    }
    let readiness = &jobs["readiness"];
    assert_eq!(dns_targets(readiness), readiness_expected, "every service's /readyz is probed");
    let relabel = format!("{:?}", readiness["relabel_configs"]);
    assert!(relabel.contains("http://$1/readyz") && relabel.contains("blackbox:9115"), "{relabel}");
    let module = strings(&readiness["params"]["module"]);
    let blackbox = yaml("compose/prometheus/blackbox.yml");
    assert_eq!(module.len(), 1);
    assert_eq!(blackbox["modules"][module[0].as_str()]["http"]["valid_status_codes"][0].as_i64(), Some(200));

    let brokers = &jobs["redpanda"];
    assert_eq!(brokers["metrics_path"].as_str(), Some("/public_metrics"));
    assert_eq!(
        strings(&brokers["static_configs"][0]["targets"]),
        ["redpanda-0:9644", "redpanda-1:9644", "redpanda-2:9644"],
        "every broker's admin API"
    );
    for broker in ["redpanda-0", "redpanda-1", "redpanda-2"] {
        service(&compose, broker);
    }

    // The container reads this folder, with the rules at the same relative path.
    let prometheus = service(&compose, "prometheus");
    assert!(strings(&prometheus["volumes"]).contains(&"./prometheus:/etc/prometheus:ro".to_owned()));
    assert!(strings(&prometheus["command"]).contains(&"--config.file=/etc/prometheus/prometheus.yml".to_owned()));
    assert_eq!(strings(&config["rule_files"]), ["rules/*.yml"]);
    assert_eq!(strings(&prometheus["ports"]), ["127.0.0.1:9090:9090"], "Prometheus has no authentication");
    let blackbox = service(&compose, "blackbox");
    assert!(strings(&blackbox["volumes"]).iter().any(|v| v.starts_with("./prometheus/blackbox.yml:")));
}

/// ci/dev --ops writes its own config (ci/lib.sh): the same jobs and the same rule files.
#[test]
fn the_local_prometheus_config_has_compose_jobs_and_rules() {
    let dir = tempfile::tempdir().expect("unwrap: a temp dir");
    let file = dir.path().join("prometheus.yml");
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg("source ci/lib.sh && write_local_prometheus_config \"$1\"")
        .arg("write_local_prometheus_config")
        .arg(&file)
        .current_dir(repo())
        .output()
        .expect("unwrap: bash runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let local =
        YamlLoader::load_from_str(&std::fs::read_to_string(&file).expect("unwrap: written")).expect("YAML").remove(0);
    let local_jobs: BTreeSet<String> = local["scrape_configs"]
        .as_vec()
        .expect("scrape_configs")
        .iter()
        .filter_map(|job| job["job_name"].as_str().map(str::to_owned))
        .collect();
    let compose_jobs: BTreeSet<String> = compose_jobs().into_iter().filter(|job| job != "redpanda").collect();
    assert_eq!(local_jobs, compose_jobs, "the local stack has every job but the brokers (tansu has no metrics)");
    let rules = repo().join("compose/prometheus/rules/*.yml");
    let rules = rules.to_str().expect("unwrap: a UTF-8 path");
    assert_eq!(strings(&local["rule_files"]).len(), 1);
    let local_rules = PathBuf::from(strings(&local["rule_files"])[0].clone());
    assert_eq!(
        local_rules.parent().map(|p| p.canonicalize().expect("unwrap: the rules folder exists")),
        Path::new(rules).parent().map(|p| p.canonicalize().expect("unwrap: the rules folder exists")),
        "the same rule files as compose"
    );
    let text = std::fs::read_to_string(&file).expect("unwrap: written");
    // The services' default ops ports (`<SERVICE>_OPS_PORT`), never their public ones.
    for port in [9180, 9181, 9182, 9183] {
        assert_eq!(text.matches(&format!("\"127.0.0.1:{port}\"")).count(), 2, "{port}: scraped and probed");
    }
    for port in [8080, 8081, 8082, 8083] {
        assert!(!text.contains(&format!("127.0.0.1:{port}")), "{port} is a public port: not scraped");
    }
}

#[test]
fn grafana_is_provisioned_with_prometheus_and_the_dashboard() {
    let compose = compose();
    let grafana = service(&compose, "grafana");
    let volumes = strings(&grafana["volumes"]);
    assert!(volumes.contains(&"./grafana/provisioning:/etc/grafana/provisioning:ro".to_owned()), "{volumes:?}");
    assert_eq!(strings(&grafana["ports"]), ["127.0.0.1:3000:3000"], "Grafana only on the host's loopback");
    let password = grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD__FILE"].as_str().expect("an admin password file");
    assert_eq!(password, "/run/secrets/grafana_admin_password", "Grafana's admin password is a compose secret");
    assert_eq!(strings(&grafana["secrets"]), ["grafana_admin_password"]);

    let datasources = yaml("compose/grafana/provisioning/datasources/prometheus.yml");
    let source = &datasources["datasources"][0];
    assert_eq!(source["type"].as_str(), Some("prometheus"));
    assert_eq!(source["url"].as_str(), Some("http://prometheus:9090"), "compose's Prometheus service");
    let uid = source["uid"].as_str().expect("a uid the dashboards name");

    let providers = yaml("compose/grafana/provisioning/dashboards/restaurant.yml");
    let path = providers["providers"][0]["options"]["path"].as_str().expect("a dashboards path");
    let mount = volumes.iter().find(|v| v.split(':').nth(1) == Some(path)).expect("the dashboards path is mounted");
    let host = mount.split(':').next().expect("unwrap: a host path").trim_start_matches("./");
    let dashboards = files_in(&format!("compose/{host}"), ".json");
    assert!(!dashboards.is_empty(), "no dashboard in compose/{host}");

    for file in dashboards {
        let dashboard: serde_json::Value = serde_json::from_str(&read(&file)).expect("unwrap: JSON");
        let panels = dashboard["panels"].as_array().expect("panels");
        let rows: Vec<&str> =
            panels.iter().filter(|p| p["type"] == "row").filter_map(|p| p["title"].as_str()).collect();
        for row in ["Service overview", "Order pipeline", "Kitchen", "Gateway"] {
            assert!(rows.iter().any(|r| r.starts_with(row)), "{file} has no {row} row: {rows:?}");
        }
        let mut ids = BTreeSet::new();
        for panel in panels {
            assert!(ids.insert(panel["id"].as_i64().expect("a panel id")), "{file}: panel ids repeat");
            if panel["type"] == "row" {
                continue;
            }
            let title = panel["title"].as_str().unwrap_or_default();
            assert_eq!(panel["datasource"]["uid"].as_str(), Some(uid), "{file}: {title} reads another data source");
            let targets = panel["targets"].as_array().filter(|t| !t.is_empty());
            assert!(targets.is_some(), "{file}: {title} queries nothing");
            for target in targets.into_iter().flatten() {
                assert_eq!(target["datasource"]["uid"].as_str(), Some(uid), "{file}: {title}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Console.

/// The dead-letter topic holds only records the kitchen could not decode as an `OrderEvent`:
/// Console must show them as they are (bytes and headers), not try the same decoding again.
#[test]
fn console_decodes_the_order_topic_and_leaves_the_dead_letter_topic_raw() {
    let console = yaml("compose/console-config.yml");
    let mappings = console["kafka"]["protobuf"]["mappings"].as_vec().expect("mappings").clone();
    let topics: Vec<&str> = mappings.iter().filter_map(|m| m["topicName"].as_str()).collect();
    assert!(topics.contains(&"orders.events"), "the order topic is decoded as before");
    assert!(!topics.iter().any(|t| t.ends_with(".dlq")), "the dead-letter topic is decoded: {topics:?}");
}
