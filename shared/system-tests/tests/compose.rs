//! The production compose file, checked without a Docker engine (there is none here): it names
//! every service, sets every variable each service reads, wires Console to Protobuf files that
//! exist, and Debian's `docker-compose` (v1) accepts it.

use std::collections::{BTreeMap, BTreeSet};
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

/// A mapping with YAML merge keys (`<<: *anchor`) applied, as compose applies them.
fn merged(node: &Yaml) -> BTreeMap<String, Yaml> {
    let mut out = BTreeMap::new();
    if let Some(hash) = node.as_hash() {
        if let Some(base) = hash.get(&Yaml::String("<<".into())) {
            out.extend(merged(base));
        }
        for (key, value) in hash {
            if let Some(key) = key.as_str().filter(|k| *k != "<<") {
                out.insert(key.to_owned(), value.clone());
            }
        }
    }
    out
}

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
    names.extend(["LOG_FORMAT".to_owned(), "RUST_LOG".to_owned()]);
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
    assert_eq!(ports("redpanda-0"), ["9094:19094"]);
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
