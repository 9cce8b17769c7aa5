//! The production compose file, checked without a Docker engine (there is none here): it names
//! every service, sets every variable each service reads, runs the brokers in production mode
//! with a listener per broker for the host, sets the cluster up idempotently, wires Console to
//! the admin API and to Protobuf files that compile, builds one image from a clean context, and
//! Debian's `docker-compose` (v1) accepts it. What only a Docker host can prove is in
//! compose/README.md ("Proving it on a Docker host"); the database start-up is proven for real in
//! `postgres_init.rs`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
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
        ("DatabaseSettings::from_env", &["DATABASE_URL", "DATABASE_MAX_CONNECTIONS"]),
        ("KafkaSettings::from_env", &["KAFKA_BROKERS", "ORDERS_TOPIC", "ORDERS_TOPIC_PARTITIONS"]),
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
        let environment = merged(merged(definition).get("environment").unwrap_or(&Yaml::Null));
        if environment.contains_key("TOKEN_PRIVATE_KEY") {
            assert!(name == "users" || name == "kitchen-account", "{name} gets the private key");
        }
    }
    // Host ports as the product specifies.
    let ports = |service: &str| -> Vec<String> {
        merged(&services[service])
            .get("ports")
            .and_then(Yaml::as_vec)
            .map(|p| p.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    assert_eq!(ports("postgres"), ["5433:5432"]);
    assert_eq!(ports("console"), ["8090:8080"]);
    assert_eq!(ports("gateway"), ["8082:8082"]);
    assert_eq!(ports("kitchen"), ["8081:8081"]);
    // The brokers' external listeners: loopback only, the Kafka API has no authentication.
    assert_eq!(ports("redpanda-0"), ["127.0.0.1:9094:9094"]);
    assert_eq!(ports("redpanda-1"), ["127.0.0.1:9095:9095"]);
    assert_eq!(ports("redpanda-2"), ["127.0.0.1:9096:9096"]);
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
        assert_eq!(volumes, [format!("{broker}:/var/lib/redpanda/data")], "{broker} keeps its data in a volume");
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

/// A stand-in for `rpk` on PATH that keeps topics in a file and logs every call: enough to run
/// redpanda-setup.sh's own logic (this is not Redpanda; the README's commands prove Redpanda).
const FAKE_RPK: &str = r#"#!/bin/bash
set -eu
echo "$*" >> "$STATE/calls"
case "$1 $2" in
  "cluster config") [ "$3" = get ] && echo false; exit 0 ;;
  "topic list") echo "NAME PARTITIONS REPLICAS"; cat "$STATE/topics" 2>/dev/null || true ;;
  "topic create") echo "$3 $5 $7" >> "$STATE/topics" ;;
  "topic alter-config") ;;
  *) echo "unexpected rpk $*" >&2; exit 2 ;;
esac
"#;

#[test]
fn running_the_topics_job_twice_creates_each_topic_once_and_a_mismatch_fails_it() {
    let dir = tempfile::tempdir().expect("unwrap: a temp dir");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("unwrap: our temp dir");
    std::fs::write(bin.join("rpk"), FAKE_RPK).expect("unwrap: our temp dir");
    let setup = |state: &Path| {
        std::process::Command::new("bash")
            .arg(repo().join("compose/redpanda-setup.sh"))
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("STATE", state)
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
        let environment = merged(&merged(&services[service])["environment"]);
        let url = environment["DATABASE_URL"].as_str().expect("DATABASE_URL");
        let user = url.strip_prefix("postgresql://").and_then(|r| r.split_once('@')).map(|(u, _)| u);
        assert!(user.is_some_and(|u| !u.contains(':')), "{service}: a password in DATABASE_URL");
        let password = environment["DATABASE_PASSWORD"].as_str().expect("DATABASE_PASSWORD");
        assert!(password.starts_with("${") && password.contains(":?"), "{service}: DATABASE_PASSWORD is required");
    }
    // The init script hands passwords to psql as variables and quotes its SQL from the shell.
    let init = read("compose/postgres-init.sh");
    assert!(init.contains("<<'SQL'"), "the SQL heredoc is open to shell expansion");
    for role in ["orders", "kitchen", "users"] {
        assert!(init.contains(&format!("CREATE ROLE {role}_svc LOGIN PASSWORD :'{role}_password';")), "{role}");
    }
}
