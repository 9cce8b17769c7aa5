//! The production compose file, checked without a Docker engine (there is none here): it names
//! every service, sets every variable each service reads, runs the brokers in production mode
//! with a listener per broker for the host, sets the cluster up idempotently with SASL users and
//! ACLs, wires Console to the admin API and to Protobuf files that compile, builds one image from
//! a clean context, passes every secret as a file, publishes nothing beyond loopback but the
//! proxy, runs two replicas of each service behind nginx (whose configuration Debian's nginx
//! checks and runs here), and Debian's `docker-compose` (v1) accepts it. What only a Docker host can prove is in
//! compose/README.md ("Proving it on a Docker host"); the database start-up is proven for real in
//! `postgres_init.rs`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

fn repo() -> PathBuf {
    system_tests::repo()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn compose() -> Yaml {
    YamlLoader::load_from_str(&read("compose/docker-compose.yml")).expect("unwrap: the compose file is YAML").remove(0)
}

use system_tests::compose_file::merged;

/// The variables a service reads: the names in its `config.rs`, plus those of the shared
/// settings it uses. Variables for fault tests only are left out on purpose.
fn variables_read_by(service: &str) -> BTreeSet<String> {
    let config = read(&format!("services/{service}/src/config.rs"));
    let kit = read("shared/service-kit/src/config.rs");
    let mut names = BTreeSet::new();
    for call in ["env_or(\"", "env_parse(\"", "bind_addr(\"", "required_secret(\"", "secret(\"", "var_os(\"", "var(\""]
    {
        for piece in config.split(call).skip(1) {
            names.insert(piece.split('"').next().expect("unwrap: a literal").to_owned());
        }
    }
    let shared: [(&str, &[&str]); 3] = [
        ("DatabaseSettings::from_env", &["DATABASE_URL", "DATABASE_MAX_CONNECTIONS", "DATABASE_PASSWORD"]),
        (
            "KafkaSettings::from_env",
            &[
                "KAFKA_BROKERS",
                "ORDERS_TOPIC",
                "ORDERS_TOPIC_PARTITIONS",
                "KAFKA_SECURITY_PROTOCOL",
                "KAFKA_SASL_MECHANISM",
                "KAFKA_SASL_USERNAME",
                "KAFKA_SASL_PASSWORD",
            ],
        ),
        ("AuthSettings::from_env", &["TOKEN_PUBLIC_KEY", "SERVICE_TOKEN", "USERS_GRPC_URL"]),
    ];
    for (settings, vars) in shared {
        if config.contains(settings) {
            for var in vars {
                assert!(kit.contains(&format!("\"{var}\"")), "service-kit no longer reads {var}: update this test");
                names.insert((*var).to_owned());
            }
        }
    }
    if config.contains("bind_addr(") {
        names.insert("BIND_HOST".into());
    }
    names.insert("LOG_FORMAT".to_owned());
    names.remove("KITCHEN_FAILPOINT");
    names
}

#[test]
fn compose_runs_every_service_with_every_variable_it_reads() {
    let compose = compose();
    let services = merged(&compose["services"]);
    for name in [
        "redpanda-0",
        "redpanda-1",
        "redpanda-2",
        "topics",
        "console",
        "postgres",
        "users",
        "orders",
        "kitchen",
        "gateway",
        "certs",
        "proxy",
    ] {
        assert!(services.contains_key(name), "compose lacks the {name} service");
    }
    for service in ["users", "orders", "kitchen", "gateway"] {
        let definition = merged(&services[service]);
        let environment = merged(&definition["environment"]);
        let missing: Vec<String> = variables_read_by(service)
            .into_iter()
            .filter(|var| !environment.contains_key(var) && !environment.contains_key(&format!("{var}_FILE")))
            .collect();
        assert!(missing.is_empty(), "compose does not set {missing:?} for {service}");
        assert!(definition.contains_key("healthcheck"), "{service} has no health check");
        assert_eq!(definition["restart"].as_str(), Some("unless-stopped"), "{service} restart policy");
        assert_eq!(definition["command"][0].as_str(), Some(service), "{service} runs its own binary");
        // The services' own default filter applies: `RUST_LOG=info` would replace it.
        assert!(!environment.contains_key("RUST_LOG"), "compose sets RUST_LOG for {service}");
    }
    // The private key reaches the users service (and its account job) only.
    for (name, definition) in &services {
        let definition = merged(definition);
        let environment = merged(definition.get("environment").unwrap_or(&Yaml::Null));
        let granted = strings(definition.get("secrets").unwrap_or(&Yaml::Null));
        if environment.contains_key("TOKEN_PRIVATE_KEY_FILE") || granted.iter().any(|s| s == "token_private_key") {
            assert!(name == "users" || name == "kitchen-account", "{name} gets the private key");
        }
    }
}

fn ports(services: &std::collections::BTreeMap<String, Yaml>, service: &str) -> Vec<String> {
    strings(merged(&services[service]).get("ports").unwrap_or(&Yaml::Null))
}

/// Only the proxy is published beyond the host; Console, PostgreSQL, the brokers' external
/// listeners, Prometheus and Grafana answer on 127.0.0.1 only (an SSH tunnel reaches them).
#[test]
fn only_the_proxy_listens_beyond_loopback() {
    let compose = compose();
    let services = merged(&compose["services"]);
    assert_eq!(ports(&services, "postgres"), ["127.0.0.1:5433:5432"]);
    assert_eq!(ports(&services, "console"), ["127.0.0.1:8090:8080"]);
    assert_eq!(ports(&services, "redpanda-0"), ["127.0.0.1:9094:9094"]);
    assert_eq!(ports(&services, "redpanda-1"), ["127.0.0.1:9095:9095"]);
    assert_eq!(ports(&services, "redpanda-2"), ["127.0.0.1:9096:9096"]);
    assert_eq!(ports(&services, "proxy"), ["443:443", "80:80"]);
    for name in services.keys() {
        for port in ports(&services, name) {
            assert!(name == "proxy" || port.starts_with("127.0.0.1:"), "{name} publishes {port} beyond loopback");
        }
    }
}

#[test]
fn console_decodes_events_with_protobuf_files_that_exist() {
    let console = YamlLoader::load_from_str(&read("compose/console-config.yml")).expect("unwrap: YAML").remove(0);
    let protobuf = &console["kafka"]["protobuf"];
    assert_eq!(protobuf["enabled"].as_bool(), Some(true));
    let paths: Vec<&str> =
        protobuf["fileSystem"]["paths"].as_vec().expect("proto paths").iter().filter_map(Yaml::as_str).collect();
    let compose = compose();
    let volumes: Vec<String> = merged(&compose["services"]["console"])["volumes"]
        .as_vec()
        .expect("console volumes")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    for path in paths {
        let mount = volumes.iter().find(|v| v.split(':').nth(1) == Some(path)).expect("the proto path is mounted");
        let host = repo().join("compose").join(mount.split(':').next().expect("unwrap: a host path"));
        assert!(host.join("restaurant/v1/events.proto").exists(), "{} has no events.proto", host.display());
    }
    let events = read("protos/restaurant/v1/events.proto");
    for mapping in protobuf["mappings"].as_vec().expect("mappings") {
        let message = mapping["valueProtoType"].as_str().expect("a message type");
        let name = message.rsplit('.').next().expect("unwrap: a name");
        assert!(message.starts_with("restaurant.v1.") && events.contains(&format!("message {name} ")), "{message}");
    }
}

#[test]
fn debians_docker_compose_accepts_the_file() {
    // Every required secret, with a stand-in value (no real secret is needed to validate).
    let compose = read("compose/docker-compose.yml");
    let required: BTreeSet<&str> =
        compose.split("${").skip(1).filter_map(|piece| piece.split([':', '}']).next()).collect();
    let env = tempfile::NamedTempFile::new().expect("unwrap: a temp file");
    let values: String = required.iter().map(|name| format!("{name}=stand-in\n")).collect();
    std::fs::write(env.path(), values).expect("unwrap: writable");
    let output = std::process::Command::new("docker-compose")
        .arg("--env-file")
        .arg(env.path())
        .args(["-f", "compose/docker-compose.yml", "config", "--quiet"])
        .current_dir(repo())
        .output()
        .expect("docker-compose is installed (ci/test installs Debian's docker-compose)");
    assert!(output.status.success(), "docker-compose config: {}", String::from_utf8_lossy(&output.stderr));
}

fn strings(node: &Yaml) -> Vec<String> {
    node.as_vec().map(|v| v.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// The value after `flag` in a broker's start flags.
fn flag<'a>(flags: &'a [String], name: &str) -> Option<&'a str> {
    flags.iter().position(|f| f == name).and_then(|i| flags.get(i + 1)).map(String::as_str)
}

const BROKERS: [&str; 3] = ["redpanda-0", "redpanda-1", "redpanda-2"];

/// What production needs of each broker's start, with the reason. A broker's `command` is its
/// `rpk redpanda start` flags; its `entrypoint` runs before them.
#[test]
fn brokers_start_in_production_mode_each_with_a_listener_for_the_host() {
    let compose = compose();
    let services = merged(&compose["services"]);
    let mut external_ports = BTreeSet::new();
    for (index, broker) in BROKERS.iter().enumerate() {
        let definition = merged(&services[*broker]);
        let entrypoint = strings(&definition["entrypoint"]).join(" ");
        let flags = strings(&definition["command"]);
        let all = format!("{entrypoint} {}", flags.join(" "));

        // The image's redpanda.yaml has `developer_mode: true`, which makes `rpk redpanda start`
        // use dev-container mode (fsync bypassed, write caching and auto-creation on); `--set`
        // flags come too late to prevent it, so the file is changed before the start.
        let off = entrypoint.find("rpk redpanda config set redpanda.developer_mode false &&");
        // `$$` is compose's escape for a literal `$`: bash gets "$@", the flags below.
        let start = entrypoint.find("exec rpk redpanda start \"$$@\"");
        assert!(off.is_some() && start > off, "{broker}: developer mode is not switched off before the start");
        for dev_only in ["dev-container", "--mode", "unsafe-bypass-fsync", "developer_mode true", "developer_mode=true"]
        {
            assert!(!all.contains(dev_only), "{broker} starts with {dev_only}");
        }
        // Outside developer mode a shard below 1 GiB is refused; production guidance is 2 GiB.
        assert_eq!(flag(&flags, "--smp"), Some("1"), "{broker}: one core");
        let memory = flag(&flags, "--memory").unwrap_or_else(|| panic!("{broker}: --memory"));
        let gib: u32 = memory.strip_suffix('G').and_then(|g| g.parse().ok()).unwrap_or_else(|| panic!("{memory}"));
        assert!(gib >= 2, "{broker}: {memory} is below 2 GiB per core");
        assert_eq!(flag(&flags, "--node-id"), Some(index.to_string().as_str()));

        // One internal listener (containers) and one external listener per broker, advertised
        // at an address the host reaches, on a host port of its own.
        let listeners = flag(&flags, "--kafka-addr").expect("--kafka-addr");
        let advertised = flag(&flags, "--advertise-kafka-addr").expect("--advertise-kafka-addr");
        assert!(listeners.contains("internal://0.0.0.0:9092"), "{broker}: {listeners}");
        assert!(advertised.contains(&format!("internal://{broker}:9092")), "{broker}: {advertised}");
        let external = advertised
            .split(',')
            .find_map(|a| a.strip_prefix("external://"))
            .unwrap_or_else(|| panic!("{broker} advertises no external listener"));
        let (host, port) = external.rsplit_once(':').expect("host:port");
        assert!(host == "127.0.0.1" || host == "localhost", "{broker} advertises {host} to the host");
        assert!(listeners.contains(&format!("external://0.0.0.0:{port}")), "{broker} listens elsewhere: {listeners}");
        assert_eq!(strings(&definition["ports"]), [format!("127.0.0.1:{port}:{port}")], "{broker} host port");
        assert!(external_ports.insert(port.to_owned()), "{broker} shares host port {port}");

        assert_eq!(
            flag(&flags, "--seeds"),
            Some("redpanda-0:33145,redpanda-1:33145,redpanda-2:33145"),
            "{broker}: every broker seeds the cluster"
        );
        assert_eq!(flag(&flags, "--advertise-rpc-addr"), Some(format!("{broker}:33145").as_str()));
        let volumes = strings(&definition["volumes"]);
        assert_eq!(
            volumes,
            [
                format!("{broker}:/var/lib/redpanda/data"),
                "./redpanda-bootstrap.yaml:/etc/redpanda/.bootstrap.yaml:ro".into()
            ],
            "{broker} keeps its data in a volume and starts a new cluster with SASL on"
        );
    }
}

/// The topics job: cluster settings production needs, topics created idempotently, and no
/// failure swallowed.
#[test]
fn the_topics_job_sets_the_cluster_up_idempotently_and_fails_loudly() {
    let compose = compose();
    let services = merged(&compose["services"]);
    let job = merged(&services["topics"]);
    assert_eq!(strings(&job["entrypoint"]), ["/bin/bash", "/usr/local/bin/redpanda-setup.sh"]);
    assert_eq!(strings(&job["volumes"]), ["./redpanda-setup.sh:/usr/local/bin/redpanda-setup.sh:ro"]);
    let environment = merged(&job["environment"]);
    let every = |port: u16| BROKERS.map(|b| format!("{b}:{port}")).join(",");
    assert_eq!(environment["RPK_BROKERS"].as_str(), Some(every(9092).as_str()));
    assert_eq!(environment["RPK_ADMIN_HOSTS"].as_str(), Some(every(9644).as_str()));
    for broker in BROKERS {
        assert_eq!(job["depends_on"][broker]["condition"].as_str(), Some("service_healthy"), "topics after {broker}");
    }
    for service in ["orders", "kitchen", "console"] {
        let condition = merged(&services[service])["depends_on"]["topics"]["condition"].clone();
        assert_eq!(condition.as_str(), Some("service_completed_successfully"), "{service} waits for the topics");
    }

    let script = read("compose/redpanda-setup.sh");
    let syntax = std::process::Command::new("bash")
        .args(["-n", "compose/redpanda-setup.sh"])
        .current_dir(repo())
        .output()
        .expect("unwrap: bash runs");
    assert!(syntax.status.success(), "redpanda-setup.sh: {}", String::from_utf8_lossy(&syntax.stderr));
    assert!(script.contains("set -euo pipefail"), "a failed step must fail the job");
    assert!(!script.contains("|| true") && !script.contains("|| :"), "the job swallows a failure");
    // Cluster properties production needs, set (and read back) on every run.
    for (property, value, why) in [
        ("auto_create_topics_enabled", "false", "a producer must never create orders.events with cluster defaults"),
        ("write_caching_default", "false", "an acknowledged write is on disk on a majority, not in memory"),
    ] {
        assert!(script.contains(&format!("rpk cluster config set {property} {value}\n")), "{property}: {why}");
        assert!(
            script.contains(&format!("\"$(rpk cluster config get {property})\" = {value} ]")),
            "{property} read back"
        );
    }
    // Redpanda ignores min.insync.replicas: Raft majority already gives acks=all its meaning.
    assert!(!script.contains("min.insync.replicas"));
    // The topics, with as many partitions as the services expect, replicated on every broker.
    let partitions = merged(&merged(&services["orders"])["environment"])["ORDERS_TOPIC_PARTITIONS"].clone();
    let partitions = partitions.as_str().expect("ORDERS_TOPIC_PARTITIONS");
    assert!(script.contains(&format!("\nensure_topic orders.events {partitions} 3\n")), "orders.events");
    assert!(script.contains("\nensure_topic orders.events.dlq 1 3\n"), "orders.events.dlq");
    assert!(script.contains("--topic-config write.caching=false"), "new topics do not cache writes");
}

/// A stand-in for `rpk` on PATH that keeps topics and SASL users in files and logs every call,
/// with the Kafka API credentials it was given (`as=USER:PASS`): enough to run
/// redpanda-setup.sh's own logic (this is not Redpanda; the README's commands prove Redpanda).
const FAKE_RPK: &str = r#"#!/bin/bash
set -eu
echo "$* as=${RPK_USER:-}:${RPK_PASS:-}" >> "$STATE/calls"
case "$1 $2" in
  "cluster config")
    [ "$3" = get ] || exit 0
    if [ "$4" = enable_sasl ]; then echo true; else echo false; fi ;;
  "topic list") echo "NAME PARTITIONS REPLICAS"; cat "$STATE/topics" 2>/dev/null || true ;;
  "topic create") echo "$3 $5 $7" >> "$STATE/topics" ;;
  "topic alter-config") ;;
  "security user")
    case "$3" in
      list) echo "USERNAME"; cat "$STATE/users" 2>/dev/null || true ;;
      create) echo "$4" >> "$STATE/users" ;;
      update) grep -qx "$4" "$STATE/users" || { echo "no user $4" >&2; exit 1; } ;;
      *) echo "unexpected rpk $*" >&2; exit 2 ;;
    esac ;;
  "security acl") ;;
  *) echo "unexpected rpk $*" >&2; exit 2 ;;
esac
"#;

#[test]
fn running_the_topics_job_twice_creates_each_topic_once_and_a_mismatch_fails_it() {
    let dir = tempfile::tempdir().expect("unwrap: a temp dir");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("unwrap: our temp dir");
    std::fs::write(bin.join("rpk"), FAKE_RPK).expect("unwrap: our temp dir");
    // The SCRAM users' password files, as compose mounts them under /run/secrets.
    let passwords = dir.path().join("secrets");
    std::fs::create_dir(&passwords).expect("unwrap: our temp dir");
    for user in ["admin", "orders", "kitchen", "console"] {
        std::fs::write(passwords.join(format!("kafka_{user}_password")), format!("{user}-pw\n"))
            .expect("unwrap: our temp dir");
    }
    let setup = |state: &Path| {
        std::process::Command::new("bash")
            .arg(repo().join("compose/redpanda-setup.sh"))
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("STATE", state)
            .env("SASL_USERS", "admin orders kitchen console")
            .env("SASL_PASSWORD_DIR", &passwords)
            .output()
            .expect("unwrap: bash runs")
    };
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(bin.join("rpk"), std::fs::Permissions::from_mode(0o755)).expect("unwrap: our file");

    let state = dir.path().join("cluster");
    std::fs::create_dir(&state).expect("unwrap: our temp dir");
    for run in ["first", "second"] {
        let output = setup(state.as_path());
        assert!(output.status.success(), "{run} run: {}", String::from_utf8_lossy(&output.stderr));
    }
    let calls = std::fs::read_to_string(state.join("calls")).expect("unwrap: rpk was called");
    let creates: Vec<&str> = calls.lines().filter(|c| c.starts_with("topic create")).collect();
    assert_eq!(creates.len(), 2, "each topic is created once over two runs: {calls}");
    assert_eq!(calls.matches("cluster config set auto_create_topics_enabled false").count(), 2, "set on every run");
    // Each SCRAM user is created once, with its own password, then brought back to it.
    for user in ["admin", "orders", "kitchen", "console"] {
        let created = format!("security user create {user} --password {user}-pw --mechanism SCRAM-SHA-256 as=:\n");
        let updated = format!("security user update {user} --new-password {user}-pw --mechanism SCRAM-SHA-256 as=:\n");
        assert_eq!(calls.matches(&created).count(), 1, "{user} created once: {calls}");
        assert_eq!(calls.matches(&updated).count(), 1, "{user} updated on the second run: {calls}");
    }
    // The Kafka API only as the superuser, after SASL is on; the Admin API calls before carry
    // no credentials (the superuser may not exist yet).
    for line in calls.lines() {
        if line.starts_with("topic ") || line.starts_with("security acl ") {
            assert!(line.ends_with(" as=admin:admin-pw"), "the Kafka API not as the superuser: {line}");
        }
        if line.starts_with("security user ") {
            assert!(line.ends_with(" as=:"), "credentials sent before the superuser exists: {line}");
        }
    }
    assert_eq!(calls.matches("cluster config set enable_sasl true").count(), 2, "SASL on, every run");
    assert_eq!(calls.matches("cluster config set superusers ['admin']").count(), 2, "admin is the superuser");

    // A missing password file fails the job before it changes anything.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("unwrap: our temp dir");
    std::fs::remove_file(passwords.join("kafka_kitchen_password")).expect("unwrap: written above");
    let output = setup(empty.as_path());
    assert!(!output.status.success(), "a SASL user without a password passed");
    assert!(String::from_utf8_lossy(&output.stderr).contains("kafka_kitchen_password"));
    let calls = std::fs::read_to_string(empty.join("calls")).unwrap_or_default();
    assert!(!calls.contains("security user create"), "users were created before the check: {calls}");
    std::fs::write(passwords.join("kafka_kitchen_password"), "kitchen-pw").expect("unwrap: our temp dir");

    // A topic that exists with other partitions is reported, not recreated or ignored.
    let wrong = dir.path().join("wrong");
    std::fs::create_dir(&wrong).expect("unwrap: our temp dir");
    std::fs::write(wrong.join("topics"), "orders.events 3 3\n").expect("unwrap: our temp dir");
    let output = setup(wrong.as_path());
    assert!(!output.status.success(), "a topic with 3 partitions passed as 6");
    assert!(String::from_utf8_lossy(&output.stderr).contains("orders.events has partitions/replicas 3 3"));
}

#[test]
fn console_reaches_every_broker_and_its_admin_api() {
    let console = YamlLoader::load_from_str(&read("compose/console-config.yml")).expect("unwrap: YAML").remove(0);
    assert_eq!(strings(&console["kafka"]["brokers"]), BROKERS.map(|b| format!("{b}:9092")));
    let admin = &console["redpanda"]["adminApi"];
    assert_eq!(admin["enabled"].as_bool(), Some(true), "Console without the admin API");
    assert_eq!(strings(&admin["urls"]), BROKERS.map(|b| format!("http://{b}:9644")));
}

/// Console compiles every file under its proto path, resolving imports from that root; the same
/// compile here (protox) must find each mapped message.
#[test]
fn console_mappings_name_messages_that_compile_from_the_mounted_protos() {
    let console = YamlLoader::load_from_str(&read("compose/console-config.yml")).expect("unwrap: YAML").remove(0);
    let root = repo().join("protos");
    let mut files = Vec::new();
    let mut pending = vec![root.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("unwrap: a readable folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "proto") {
                files.push(path.strip_prefix(&root).expect("unwrap: under the root").to_owned());
            }
        }
    }
    let compiled = protox::compile(&files, [&root]).expect("protos/ compiles from its root, as Console reads it");
    let messages: BTreeSet<String> = compiled
        .file
        .iter()
        .flat_map(|file| {
            let package = file.package.clone().unwrap_or_default();
            file.message_type.iter().map(move |m| format!("{package}.{}", m.name.clone().unwrap_or_default()))
        })
        .collect();
    for mapping in console["kafka"]["protobuf"]["mappings"].as_vec().expect("mappings") {
        for key in ["valueProtoType", "keyProtoType"] {
            if let Some(message) = mapping[key].as_str() {
                assert!(messages.contains(message), "{message} is not a message of protos/");
            }
        }
    }
}

#[test]
fn one_image_from_a_clean_context_with_dependencies_cached() {
    let compose = compose();
    let services = merged(&compose["services"]);
    for (name, definition) in &services {
        let definition = merged(definition);
        assert!(!definition.contains_key("build"), "{name} builds the image: the runbook builds it once");
        if definition.get("image").and_then(Yaml::as_str) == Some("restaurant:latest") {
            assert_eq!(definition["pull_policy"].as_str(), Some("never"), "{name} could pull restaurant:latest");
        }
    }
    for service in ["users", "kitchen-account", "orders", "kitchen", "gateway"] {
        assert_eq!(merged(&services[service])["image"].as_str(), Some("restaurant:latest"), "{service}");
    }

    let dockerfile = read("compose/Dockerfile");
    assert!(dockerfile.starts_with("# syntax=docker/dockerfile:1\n"), "cache mounts need the BuildKit syntax");
    for cache in ["target=/usr/local/cargo/registry", "target=/src/target"] {
        assert!(dockerfile.contains(cache), "compiled dependencies are not cached: {cache}");
    }
    assert!(dockerfile.contains("FROM node:22-"), "Node 20 is end-of-life");
    assert!(dockerfile.contains("cargo build --release --locked"));
    assert!(dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/service-entrypoint\"]"));
    assert!(dockerfile.contains("COPY --chmod=0755 compose/service-entrypoint.sh /usr/local/bin/service-entrypoint"));

    let ignored: BTreeSet<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    for needed in [".git", "target", "**/target", "**/node_modules", "**/dist", ".state", "keys", "**/.env"] {
        assert!(ignored.contains(needed), ".dockerignore lets {needed} into the build context");
    }
}

/// Health checks that pass only when the thing is reachable as its clients reach it (TCP), and
/// secrets that never reach a URL or SQL text unescaped.
#[test]
fn health_checks_go_over_tcp_and_secrets_are_never_pasted() {
    let compose = compose();
    let services = merged(&compose["services"]);
    let postgres = strings(&merged(&services["postgres"])["healthcheck"]["test"]);
    assert_eq!(flag(&postgres, "-h"), Some("127.0.0.1"), "pg_isready on the socket passes while init scripts run");
    for service in ["users", "orders", "kitchen", "gateway"] {
        let test = strings(&merged(&services[service])["healthcheck"]["test"]).join(" ");
        assert!(test.contains("http://127.0.0.1:"), "{service}: {test}");
    }

    // Compose interpolates without escaping: no `${…}` inside a URL.
    for line in read("compose/docker-compose.yml").lines() {
        if let Some((_, url)) = line.split_once("://") {
            assert!(!url.contains("${"), "a variable pasted into a URL: {line}");
        }
    }
    for service in ["users", "kitchen-account", "orders", "kitchen"] {
        let definition = merged(&services[service]);
        let environment = merged(&definition["environment"]);
        let url = environment["DATABASE_URL"].as_str().expect("DATABASE_URL");
        let user = url.strip_prefix("postgresql://").and_then(|r| r.split_once('@')).map(|(u, _)| u);
        assert!(user.is_some_and(|u| !u.contains(':')), "{service}: a password in DATABASE_URL");
        let role = user.and_then(|u| u.strip_suffix("_svc")).expect("a service role");
        let file = environment["DATABASE_PASSWORD_FILE"].as_str().expect("DATABASE_PASSWORD_FILE");
        assert_eq!(file, format!("/run/secrets/{role}_db_password"), "{service}: its own role's password");
        assert!(!environment.contains_key("DATABASE_PASSWORD"), "{service}: a password in the environment");
    }
    // The init script hands passwords to psql as variables and quotes its SQL from the shell.
    let init = read("compose/postgres-init.sh");
    assert!(init.contains("<<'SQL'"), "the SQL heredoc is open to shell expansion");
    for role in ["orders", "kitchen", "users"] {
        assert!(init.contains(&format!("CREATE ROLE {role}_svc LOGIN PASSWORD :'{role}_password';")), "{role}");
    }
}

/// Secrets reach containers as files (compose `secrets:`, read through `*_FILE`), never as
/// environment values; every file is made by init-secrets.sh and kept out of git and the image.
#[test]
fn secrets_reach_containers_as_files_never_as_environment_values() {
    let compose = compose();
    let services = merged(&compose["services"]);
    let declared = merged(&compose["secrets"]);
    let looks_secret = |key: &str| {
        ["PASSWORD", "TOKEN", "PRIVATE_KEY", "PUBLIC_KEY", "SECRET", "_PASS"].iter().any(|w| key.ends_with(w))
    };
    let mut used = BTreeSet::new();
    for (name, definition) in &services {
        let definition = merged(definition);
        let granted = strings(definition.get("secrets").unwrap_or(&Yaml::Null));
        let environment = merged(definition.get("environment").unwrap_or(&Yaml::Null));
        for (key, value) in &environment {
            let value = value.as_str().unwrap_or_default();
            if let Some(file) = key.strip_suffix("__FILE").or_else(|| key.strip_suffix("_FILE")).map(|_| value) {
                let secret = file.strip_prefix("/run/secrets/").unwrap_or_else(|| panic!("{name}: {key}={file}"));
                assert!(granted.iter().any(|g| g == secret), "{name}: {key} names {secret}, which it is not granted");
            } else {
                assert!(!looks_secret(key), "{name}: {key} is passed as an environment value");
                // A directory of secret files (the topics job's) is the only other way in.
                assert!(!value.starts_with("/run/secrets/"), "{name}: {key}={value} is read without the _FILE form");
            }
        }
        for secret in granted {
            assert!(declared.contains_key(&secret), "{name} is granted {secret}, which compose does not declare");
            used.insert(secret);
        }
    }
    assert_eq!(used, declared.keys().cloned().collect::<BTreeSet<_>>(), "a declared secret nobody reads");
    // No secret is interpolated from compose/.env any more.
    let text = read("compose/docker-compose.yml");
    for piece in text.split("${").skip(1) {
        let name = piece.split([':', '}']).next().unwrap_or_default();
        assert!(!looks_secret(name), "${{{name}}} interpolates a secret into the file");
    }
    let files: BTreeSet<String> = declared
        .iter()
        .map(|(name, secret)| {
            let file = secret["file"].as_str().unwrap_or_else(|| panic!("{name}: not a file secret"));
            file.strip_prefix("./secrets/")
                .unwrap_or_else(|| panic!("{name}: {file} is outside compose/secrets"))
                .into()
        })
        .collect();
    assert!(read(".gitignore").lines().any(|l| l == "compose/secrets/"), "compose/secrets/ could be committed");
    assert!(read(".dockerignore").lines().any(|l| l == "compose/secrets"), "compose/secrets in the build context");

    // init-secrets.sh makes every one of them (the users binary stood in for: its own commands
    // are tested with the users service), changes none on a second run, and keeps the directory
    // its owner's while the files stay readable by the containers' users.
    let copy = tempfile::tempdir().expect("unwrap: a temp dir");
    std::fs::create_dir(copy.path().join("compose")).expect("unwrap: our temp dir");
    std::fs::copy(repo().join("compose/init-secrets.sh"), copy.path().join("compose/init-secrets.sh"))
        .expect("unwrap: the script exists");
    let users = copy.path().join("users");
    std::fs::write(
        &users,
        "#!/bin/bash\nset -eu\ncase \"$1\" in\n  generate-keys) echo private > \"$2/token-private.hex\"; echo public > \"$2/token-public.hex\" ;;\n  mint-service-token) [ -s \"$TOKEN_PRIVATE_KEY_FILE\" ]; echo \"token-for-$2\" ;;\nesac\n",
    )
    .expect("unwrap: our temp dir");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&users, std::fs::Permissions::from_mode(0o755)).expect("unwrap: our file");
    let init = || {
        let output = std::process::Command::new("bash")
            .arg(copy.path().join("compose/init-secrets.sh"))
            .env("USERS_BIN", &users)
            .output()
            .expect("unwrap: bash runs");
        assert!(output.status.success(), "init-secrets.sh: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    init();
    let dir = copy.path().join("compose/secrets");
    let made: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("the secrets")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into())
        .collect();
    assert_eq!(made, files, "init-secrets.sh makes exactly the files compose reads");
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(dir.join(f)).expect("unwrap: made")).collect();
    for (file, content) in files.iter().zip(&before) {
        assert!(file.ends_with(".hex") || (content.len() >= 6 && !content.ends_with(b"\n")), "{file}: {content:?}");
        let mode = std::fs::metadata(dir.join(file)).expect("unwrap: made").permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{file}");
    }
    assert_eq!(std::fs::read_to_string(dir.join("kitchen_service_token")).expect("made"), "token-for-kitchen");
    let mode = std::fs::metadata(&dir).expect("unwrap: made").permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "only the owner may enter compose/secrets");
    assert!(init().contains("every secret is there already"));
    let after: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(dir.join(f)).expect("unwrap: made")).collect();
    assert_eq!(before, after, "a second run changed a secret");
}

/// The brokers take SCRAM only; each service and Console signs in as its own user, whom the
/// topics job creates with the password in that user's secret file, and whose ACLs cover the
/// topics and consumer groups the code uses.
#[test]
fn every_kafka_client_signs_in_as_a_scram_user_the_topics_job_creates() {
    let compose = compose();
    let services = merged(&compose["services"]);
    let bootstrap = YamlLoader::load_from_str(&read("compose/redpanda-bootstrap.yaml")).expect("YAML").remove(0);
    assert_eq!(bootstrap["enable_sasl"].as_bool(), Some(true), "a new cluster starts without SASL");
    assert_eq!(strings(&bootstrap["superusers"]), ["admin"]);
    for broker in BROKERS {
        let volumes = strings(&merged(&services[broker])["volumes"]);
        assert!(volumes.contains(&"./redpanda-bootstrap.yaml:/etc/redpanda/.bootstrap.yaml:ro".to_owned()), "{broker}");
    }
    let job = merged(&services["topics"]);
    let job_env = merged(&job["environment"]);
    let sasl_users: Vec<&str> = job_env["SASL_USERS"].as_str().expect("SASL_USERS").split_whitespace().collect();
    assert_eq!(job_env["SASL_PASSWORD_DIR"].as_str(), Some("/run/secrets"));
    let job_secrets = strings(&job["secrets"]);
    for user in &sasl_users {
        assert!(job_secrets.contains(&format!("kafka_{user}_password")), "the topics job lacks {user}'s password");
    }
    let script = read("compose/redpanda-setup.sh");
    for service in ["orders", "kitchen"] {
        let definition = merged(&services[service]);
        let environment = merged(&definition["environment"]);
        assert_eq!(environment["KAFKA_SECURITY_PROTOCOL"].as_str(), Some("sasl_plaintext"), "{service}");
        assert_eq!(environment["KAFKA_SASL_MECHANISM"].as_str(), Some("SCRAM-SHA-256"), "{service}");
        let user = environment["KAFKA_SASL_USERNAME"].as_str().expect("KAFKA_SASL_USERNAME");
        assert_eq!(user, service, "{service} signs in as itself");
        assert!(sasl_users.contains(&user), "the topics job does not create {user}");
        let secret = format!("kafka_{user}_password");
        assert_eq!(environment["KAFKA_SASL_PASSWORD_FILE"].as_str(), Some(format!("/run/secrets/{secret}").as_str()));
        assert!(strings(&definition["secrets"]).contains(&secret), "{service} is not granted {secret}");
        assert!(script.contains(&format!("\nallow {user} ")), "{user} has no ACL");
    }
    // The ACLs name the consumer groups the code uses.
    let group = merged(&merged(&services["kitchen"])["environment"])["KITCHEN_CONSUMER_GROUP"].clone();
    let group = group.as_str().expect("KITCHEN_CONSUMER_GROUP");
    assert!(script.contains(&format!("\nallow kitchen read --group {group}\n")), "kitchen's group {group}");
    for (file, prefix) in [
        ("services/orders/src/kafka/feed.rs", "orders-watch-"),
        ("shared/tools/src/bin/tail_events.rs", "tail-events-"),
    ] {
        assert!(read(file).contains(&format!("format!(\"{prefix}{{}}\"")), "{file} no longer names groups {prefix}*");
        assert!(
            script.contains(&format!("\nallow orders read --group {prefix} --resource-pattern-type prefixed\n")),
            "{prefix}*"
        );
    }
    // Console: SASL as `console`, its password read from the secret file inside the container.
    let console = YamlLoader::load_from_str(&read("compose/console-config.yml")).expect("YAML").remove(0);
    let sasl = &console["kafka"]["sasl"];
    assert_eq!(sasl["enabled"].as_bool(), Some(true));
    assert_eq!(sasl["mechanism"].as_str(), Some("SCRAM-SHA-256"));
    assert_eq!(sasl["username"].as_str(), Some("console"));
    assert!(sasl["password"].is_badvalue(), "Console's password is in its config file");
    assert!(sasl_users.contains(&"console"));
    let definition = merged(&services["console"]);
    assert_eq!(strings(&definition["secrets"]), ["kafka_console_password"]);
    let entrypoint = strings(&definition["entrypoint"]).join(" ");
    assert!(entrypoint.contains("KAFKA_SASL_PASSWORD=$$(cat /run/secrets/kafka_console_password) exec /app/console"));
}

/// Two replicas of each service, behind the proxy: none publishes a host port of its own (two
/// containers cannot share one), and the proxy starts once every replica is healthy.
#[test]
fn two_replicas_of_each_service_behind_the_proxy() {
    let compose = compose();
    let services = merged(&compose["services"]);
    for service in ["gateway", "kitchen", "orders", "users"] {
        let definition = merged(&services[service]);
        assert_eq!(definition["deploy"]["replicas"].as_i64(), Some(2), "{service} replicas");
        assert!(ports(&services, service).is_empty(), "{service} publishes a port: replicas would collide");
        assert!(!definition.contains_key("container_name"), "{service}: a fixed name allows one container");
        assert!(definition.contains_key("healthcheck"), "{service}: dependants wait for health");
    }
    let proxy = merged(&services["proxy"]);
    for (dependency, condition) in
        [("certs", "service_completed_successfully"), ("gateway", "service_healthy"), ("kitchen", "service_healthy")]
    {
        assert_eq!(proxy["depends_on"][dependency]["condition"].as_str(), Some(condition), "proxy after {dependency}");
    }
    assert_eq!(proxy["image"].as_str(), merged(&services["certs"])["image"].as_str(), "one nginx image");
    assert!(proxy["image"].as_str().is_some_and(|i| i.starts_with("nginx:1.")), "the official nginx image, pinned");
    assert_eq!(
        strings(&proxy["volumes"]),
        ["./nginx/nginx.conf:/etc/nginx/nginx.conf:ro", "certs:/etc/nginx/certs:ro"],
        "the checked configuration and the certificate volume"
    );
    let certs = merged(&services["certs"]);
    assert_eq!(merged(&certs["environment"])["CERT_DIR"].as_str(), Some("/certs"));
    assert!(strings(&certs["volumes"]).contains(&"certs:/certs".to_owned()), "the certs job writes the volume");

    // The proxy's fixed address is the one the services trust for forwarded client addresses.
    let address = proxy["networks"]["default"]["ipv4_address"].as_str().expect("the proxy's fixed address");
    let range = &compose["networks"]["default"]["ipam"]["config"][0];
    let subnet = range["subnet"].as_str().expect("a fixed subnet");
    let dynamic = range["ip_range"].as_str().expect("dynamic addresses kept apart");
    let last_octet = |a: &str| a.rsplit('.').next().and_then(|o| o.parse::<u8>().ok()).expect("an IPv4 address");
    assert_eq!(subnet, "172.28.0.0/24");
    assert_eq!(dynamic, "172.28.0.0/25", "containers draw from the lower half");
    assert!(address.starts_with("172.28.0.") && last_octet(address) >= 128, "{address} may go to another container");
    for service in ["gateway", "kitchen"] {
        let environment = merged(&merged(&services[service])["environment"]);
        assert_eq!(environment["TRUSTED_PROXIES"].as_str(), Some(address), "{service} trusts another proxy");
    }

    // The upstreams are compose's service names on the ports the services listen on, with
    // passive health checks.
    let conf = read("compose/nginx/nginx.conf");
    for (service, port_var) in [("gateway", "GATEWAY_HTTP_PORT"), ("kitchen", "KITCHEN_HTTP_PORT")] {
        let port = merged(&merged(&services[service])["environment"])[port_var].clone();
        let port = port.as_str().expect("a port");
        let server = format!("upstream {service} {{\n        server {service}:{port} max_fails=3 fail_timeout=10s;");
        assert!(conf.contains(&server), "nginx.conf lacks {server}");
    }
}

/// The text of the `location` block that opens with `head`.
fn location<'a>(conf: &'a str, head: &str) -> &'a str {
    let start = conf.find(&format!("location {head} {{")).unwrap_or_else(|| panic!("no location {head}"));
    let end = conf[start..].find('}').expect("unwrap: a closed block");
    &conf[start..start + end]
}

/// What the proxy does for each kind of traffic: WebSocket upgrades with long timeouts on the
/// gateway's subscriptions and the tablets' socket, SSE never buffered, client addresses
/// replaced rather than appended to, and the kitchen where the web UI looks for it.
#[test]
fn the_proxy_upgrades_sockets_streams_events_and_passes_the_client_address() {
    let conf = read("compose/nginx/nginx.conf");
    assert!(conf.contains("map $http_upgrade $connection_upgrade {"));
    for header in [
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "ssl_certificate /etc/nginx/certs/tls.crt;",
        "ssl_certificate_key /etc/nginx/certs/tls.key;",
    ] {
        assert!(conf.contains(header), "nginx.conf lacks {header}");
    }
    // Appending would let a client put its own address first.
    assert!(!conf.contains("$proxy_add_x_forwarded_for"));
    assert!(!conf.contains("$request "), "the access log would hold query strings (SSE tokens)");
    for head in ["= /graphql", "= /kitchen/ws", "= /kitchen/stream"] {
        let block = location(&conf, head);
        assert!(block.contains("proxy_read_timeout 1h;"), "{head}: a socket closed after 60 s of quiet");
    }
    let stream = location(&conf, "= /kitchen/stream");
    assert!(stream.contains("proxy_buffering off;"), "SSE held in nginx's buffer");
    assert!(stream.contains("proxy_pass http://kitchen/stream;"));
    assert!(location(&conf, "= /kitchen/ws").contains("proxy_pass http://kitchen/ws;"));
    assert!(location(&conf, "/kitchen/").contains("proxy_pass http://kitchen/;"));
    assert!(location(&conf, "/").contains("proxy_pass http://gateway;"));
    // The web UI opens `${kitchenUrl}/ws` and fetches `${kitchenUrl}/ticket/…`.
    let kitchen_socket = read("services/web/src/kitchen/socket.ts");
    assert!(kitchen_socket.contains("kitchenUrl.replace(/^http/, 'ws') + '/ws'"), "the web UI's socket URL changed");
    let example = read("compose/.env.example");
    assert!(example.contains("\nKITCHEN_PUBLIC_URL=https://localhost/kitchen\n"), "KITCHEN_PUBLIC_URL");
    assert!(example.contains("\nALLOWED_ORIGINS=https://localhost\n"), "ALLOWED_ORIGINS");
}

/// Runs inside private mount and network namespaces (`unshare`), so nothing here touches the
/// host's files or ports: /etc/nginx is a directory of the test's own holding Debian's
/// mime.types and the certificate compose/proxy-certs.sh made, and /etc/hosts answers the
/// compose service names with two addresses each, as compose's DNS answers for two replicas.
/// Stand-in replicas (nginx serving one line that names the replica and echoes the headers it
/// got) listen on those addresses; the proxy runs with the real compose/nginx/nginx.conf.
const PROXY_HARNESS: &str = r#"
set -euo pipefail
work=$1 conf=$2
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT
mount --bind "$work/etc" /etc/nginx
mount --bind "$work/hosts" /etc/hosts
mount -t tmpfs tmpfs /var/lib/nginx
ip link set lo up
nginx -t -e stderr -c "$conf" 2>&1
for replica in a b; do
  nginx -e stderr -c "$work/replica-$replica.conf" -g 'daemon off;' &
  pids+=($!)
done
nginx -e stderr -c "$conf" -g "daemon off; pid $work/proxy.pid;" 2>"$work/proxy.log" &
proxy=$!
pids+=($proxy)
ready() {
  curl -s -o /dev/null --cacert /etc/nginx/certs/tls.crt https://localhost/healthz &&
    curl -s -o /dev/null http://127.0.0.3:8082/ && curl -s -o /dev/null http://127.0.0.5:8081/
}
for _ in $(seq 200); do ready && break; sleep 0.05; done
get() { echo "$(curl -sS --cacert /etc/nginx/certs/tls.crt "$@")"; }
for i in 1 2 3 4 5 6; do echo "gateway: $(get https://localhost/graphql -H 'X-Forwarded-For: 6.6.6.6' -H 'X-Real-IP: 6.6.6.6')"; done
echo "subscription: $(get https://localhost/graphql -H 'Upgrade: websocket' -H 'Connection: Upgrade')"
for i in 1 2 3 4; do echo "kitchen: $(get 'https://localhost/kitchen/ticket/42?x=1')"; done
echo "tablet: $(get https://localhost/kitchen/ws -H 'Upgrade: websocket' -H 'Connection: Upgrade')"
echo "stream: $(get https://localhost/kitchen/stream)"
echo "metrics: $(curl -s -o /dev/null -w '%{http_code}' --cacert /etc/nginx/certs/tls.crt https://localhost/metrics)"
echo "readyz: $(curl -s -o /dev/null -w '%{http_code}' --cacert /etc/nginx/certs/tls.crt https://localhost/kitchen/readyz)"
echo "plain: $(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' 'http://localhost/orders?x=1')"
kill "${pids[1]}"
wait "${pids[1]}" || true
for i in 1 2 3 4; do echo "one replica left: $(get https://localhost/)"; done
"#;

/// The harness's lines that start with `label: `, without it.
fn labelled<'a>(stdout: &'a str, label: &str) -> Vec<&'a str> {
    let prefix = format!("{label}: ");
    stdout.lines().filter_map(|l| l.strip_prefix(prefix.as_str())).collect()
}

/// One stand-in replica of the gateway and the kitchen: answers every request with a line naming
/// itself and the headers the proxy sent.
fn replica_conf(dir: &Path, name: &str, gateway: &str, kitchen: &str) -> String {
    let echo = "$request_uri xff=$http_x_forwarded_for real=$http_x_real_ip proto=$http_x_forwarded_proto \
                upgrade=$http_upgrade connection=$http_connection";
    format!(
        "pid {dir}/replica-{name}.pid;\nevents {{}}\nhttp {{\n  access_log off;\n  \
         server {{ listen {gateway}:8082; location / {{ return 200 \"gateway-{name} {echo}\"; }} }}\n  \
         server {{ listen {kitchen}:8081; location / {{ return 200 \"kitchen-{name} {echo}\"; }} }}\n}}\n",
        dir = dir.display()
    )
}

/// compose/nginx/nginx.conf, as it is, through Debian's nginx: `nginx -t`, then served in front
/// of two stand-in replicas of the gateway and the kitchen (see [`PROXY_HARNESS`]).
#[test]
fn debians_nginx_accepts_the_proxy_config_and_it_balances_two_replicas_of_each() {
    let work = tempfile::tempdir().expect("unwrap: a temp dir");
    let etc = work.path().join("etc");
    std::fs::create_dir_all(etc.join("certs")).expect("unwrap: our temp dir");
    std::fs::copy("/etc/nginx/mime.types", etc.join("mime.types"))
        .expect("Debian's nginx is installed (ci/test's ensure_nginx)");
    // The certificate the `certs` job would make, by the job's own script.
    let certs = std::process::Command::new("sh")
        .arg(repo().join("compose/proxy-certs.sh"))
        .env("CERT_DIR", etc.join("certs"))
        .output()
        .expect("unwrap: sh runs");
    assert!(certs.status.success(), "proxy-certs.sh: {}", String::from_utf8_lossy(&certs.stderr));
    let again = std::process::Command::new("sh")
        .arg(repo().join("compose/proxy-certs.sh"))
        .env("CERT_DIR", etc.join("certs"))
        .output()
        .expect("unwrap: sh runs");
    assert!(String::from_utf8_lossy(&again.stdout).contains("keeping the certificate"), "a second run replaced it");
    std::fs::write(
        work.path().join("hosts"),
        "127.0.0.1 localhost\n127.0.0.2 gateway\n127.0.0.3 gateway\n127.0.0.4 kitchen\n127.0.0.5 kitchen\n",
    )
    .expect("unwrap: our temp dir");
    for (name, gateway, kitchen) in [("a", "127.0.0.2", "127.0.0.4"), ("b", "127.0.0.3", "127.0.0.5")] {
        std::fs::write(
            work.path().join(format!("replica-{name}.conf")),
            replica_conf(work.path(), name, gateway, kitchen),
        )
        .expect("unwrap: our temp dir");
    }
    let root = std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut command = std::process::Command::new("unshare");
    if !root {
        command.arg("--map-root-user");
    }
    let output = command
        .args(["--mount", "--net", "bash", "-c", PROXY_HARNESS, "harness"])
        .arg(work.path())
        .arg(repo().join("compose/nginx/nginx.conf"))
        .output()
        .expect("unshare (util-linux) runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let log = std::fs::read_to_string(work.path().join("proxy.log")).unwrap_or_default();
    assert!(
        output.status.success(),
        "the harness failed: {stdout}\n{}\nproxy log:\n{log}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("nginx.conf syntax is ok") && stdout.contains("nginx.conf test is successful"), "{stdout}");
    let lines = |label: &str| labelled(&stdout, label);

    // Both replicas of each serve, the client's own X-Forwarded-For is replaced, TLS ended here.
    let gateway = lines("gateway");
    assert_eq!(gateway.len(), 6, "{stdout}");
    for replica in ["gateway-a ", "gateway-b "] {
        assert!(gateway.iter().any(|l| l.starts_with(replica)), "{replica} got nothing: {gateway:?}");
    }
    for line in &gateway {
        assert!(line.contains("/graphql xff=127.0.0.1 real=127.0.0.1 proto=https"), "{line}");
    }
    let kitchen = lines("kitchen");
    for replica in ["kitchen-a ", "kitchen-b "] {
        assert!(kitchen.iter().any(|l| l.starts_with(replica)), "{replica} got nothing: {kitchen:?}");
    }
    assert!(kitchen.iter().all(|l| l.contains(" /ticket/42?x=1 ")), "the /kitchen prefix is taken off: {kitchen:?}");
    // WebSocket upgrades reach the gateway's /graphql and the kitchen's /ws.
    let [subscription] = lines("subscription")[..] else { panic!("{stdout}") };
    assert!(subscription.starts_with("gateway-") && subscription.contains("/graphql"), "{subscription}");
    assert!(subscription.contains("upgrade=websocket connection=upgrade"), "{subscription}");
    let [tablet] = lines("tablet")[..] else { panic!("{stdout}") };
    assert!(tablet.starts_with("kitchen-") && tablet.contains(" /ws "), "{tablet}");
    assert!(tablet.contains("upgrade=websocket connection=upgrade"), "{tablet}");
    // SSE goes to the kitchen's /stream with no Connection: upgrade (a kept-alive upstream).
    let [stream] = lines("stream")[..] else { panic!("{stdout}") };
    assert!(
        stream.starts_with("kitchen-") && stream.contains(" /stream ") && stream.ends_with("connection="),
        "{stream}"
    );
    assert_eq!(lines("metrics"), ["404"], "/metrics is served to the world");
    assert_eq!(lines("readyz"), ["404"], "the kitchen's /readyz is served to the world");
    assert_eq!(lines("plain"), ["301 https://localhost/orders?x=1"], "plain HTTP is not redirected to https");
    // Passive health: with replica b gone, every request is answered by a.
    let left = lines("one replica left");
    assert_eq!(left.len(), 4, "{stdout}");
    assert!(left.iter().all(|l| l.starts_with("gateway-a ")), "a request failed or went to a dead replica: {left:?}");
}
