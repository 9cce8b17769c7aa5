//! The architecture's invariants (ARCHITECTURE.md), checked on every test run.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    system_tests::repo()
}

fn crate_dirs() -> Vec<PathBuf> {
    ["services", "shared"]
        .iter()
        .flat_map(|top| std::fs::read_dir(repo().join(top)).expect("unwrap: the top-level folders exist"))
        .map(|entry| entry.expect("unwrap: a readable folder").path())
        .filter(|path| path.join("Cargo.toml").exists())
        .collect()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    // A folder that does not exist holds no files (a service's domain may be one file).
    let mut pending: Vec<PathBuf> = Some(dir.to_path_buf()).filter(|d| d.is_dir()).into_iter().collect();
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("unwrap: a readable folder").flatten() {
            let path = entry.path();
            if path.is_dir() && !path.ends_with("target") && !path.ends_with("node_modules") {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn name_of(dir: &Path) -> String {
    dir.file_name().expect("unwrap: a crate folder has a name").to_string_lossy().into_owned()
}

#[test]
fn architecture_md_names_every_crate() {
    let map = read(&repo().join("ARCHITECTURE.md"));
    for dir in crate_dirs() {
        let relative = format!("{}/{}", name_of(dir.parent().expect("unwrap: has a parent")), name_of(&dir));
        assert!(map.contains(&relative), "ARCHITECTURE.md does not mention {relative}");
    }
}

#[test]
fn only_the_gateway_depends_on_juniper() {
    for dir in crate_dirs() {
        let manifest = read(&dir.join("Cargo.toml"));
        if name_of(&dir) != "gateway" {
            assert!(!manifest.contains("juniper"), "{} depends on juniper", dir.display());
        }
    }
}

#[test]
fn no_service_touches_another_services_schema() {
    let services = ["orders", "kitchen", "users"];
    for dir in crate_dirs().into_iter().filter(|d| d.parent().is_some_and(|p| p.ends_with("services"))) {
        let me = name_of(&dir);
        for file in rust_files(&dir.join("src")) {
            let text = read(&file);
            for other in services.iter().filter(|s| **s != me) {
                for pattern in [format!("{other}."), format!("sql/{other}")] {
                    let in_sql = text.lines().any(|line| {
                        let upper = line.to_uppercase();
                        line.contains(&pattern)
                            && (upper.contains("SELECT")
                                || upper.contains("FROM ")
                                || upper.contains("INSERT")
                                || upper.contains("UPDATE ")
                                || upper.contains("JOIN ")
                                || line.contains("embed_migrations"))
                    });
                    assert!(!in_sql, "{} uses the {other} schema", file.display());
                }
            }
        }
    }
}

#[test]
fn in_services_only_the_kafka_module_knows_rdkafka() {
    for dir in crate_dirs().into_iter().filter(|d| d.parent().is_some_and(|p| p.ends_with("services"))) {
        for file in rust_files(&dir.join("src")) {
            let in_kafka = file.components().any(|c| c.as_os_str() == "kafka");
            if !in_kafka {
                assert!(!read(&file).contains("rdkafka"), "{} names rdkafka outside kafka/", file.display());
            }
        }
    }
}

#[test]
fn service_cores_know_no_wire_format() {
    for service in ["orders", "kitchen", "users"] {
        let src = repo().join("services").join(service).join("src");
        // A domain is a folder (`domain/`) or one file (`domain.rs`).
        let mut files = rust_files(&src.join("domain"));
        files.extend(Some(src.join("domain.rs")).filter(|f| f.exists()));
        assert!(!files.is_empty(), "{service} has no domain module");
        for file in files {
            let text = read(&file);
            for wire in ["restaurant_proto", "prost", "serde", "actix_web", "tonic", "juniper"] {
                assert!(!text.contains(wire), "{} (the domain) names {wire}", file.display());
            }
        }
    }
}

#[test]
fn every_module_opens_with_a_line_saying_what_it_is_for() {
    let mut missing = Vec::new();
    for dir in crate_dirs() {
        for file in rust_files(&dir) {
            if !read(&file).starts_with("//!") {
                missing.push(file.display().to_string());
            }
        }
    }
    assert!(missing.is_empty(), "these files do not open with a `//!` line:\n{}", missing.join("\n"));
}

/// Servers start, and other services are reached, only through `service_kit` (one place for
/// middleware, timeouts, keep-alives, health and shutdown).
#[test]
fn servers_and_channels_are_built_only_by_the_service_kit() {
    let kit = repo().join("shared/service-kit");
    for dir in crate_dirs().into_iter().filter(|d| !d.ends_with("service-kit")) {
        for file in rust_files(&dir.join("src")) {
            let text = read(&file);
            for pattern in ["HttpServer::new", "Server::builder()", "Endpoint::from_shared", "health_reporter()"] {
                assert!(
                    !text.contains(pattern),
                    "{} uses {pattern}: use service_kit ({})",
                    file.display(),
                    kit.display()
                );
            }
        }
    }
}

/// Build scripts and tests find the repository's files at run time: a binary built in one
/// checkout is reused by another that shares the target directory (CI's clean clone and a
/// working copy do), and a path baked in with `env!` would read the first checkout's files.
#[test]
fn no_code_bakes_in_its_checkouts_path() {
    let baked = concat!("env!(\"CARGO_", "MANIFEST_DIR\")");
    for dir in crate_dirs() {
        for file in rust_files(&dir) {
            assert!(
                !read(&file).contains(baked),
                "{} uses {baked}: read std::env::var(\"CARGO_MANIFEST_DIR\") at run time",
                file.display()
            );
        }
    }
}

/// Every service is an Actix actor system: its `Application::build` starts at least one actor.
#[test]
fn every_service_starts_an_actor() {
    for dir in crate_dirs().into_iter().filter(|d| d.parent().is_some_and(|p| p.ends_with("services"))) {
        let lib = read(&dir.join("src/lib.rs"));
        assert!(
            lib.contains("Actor as _") && lib.contains(".start()"),
            "{} starts no actor in its lib.rs",
            dir.display()
        );
    }
}

/// One error vocabulary: the codes clients see are spelled once, in `service_kit::error`;
/// everything else names an `ErrorKind`. (Tests may spell them: they check what clients get.)
#[test]
fn error_codes_are_spelled_only_in_the_error_vocabulary() {
    let vocabulary = repo().join("shared/service-kit/src/error.rs");
    let codes = ["BAD_USER_INPUT", "NOT_FOUND", "CONFLICT", "FORBIDDEN", "UNAUTHENTICATED", "UNAVAILABLE", "INTERNAL"];
    for dir in crate_dirs() {
        for file in rust_files(&dir.join("src")) {
            if file.ends_with("service-kit/src/error.rs") {
                continue;
            }
            let text = read(&file);
            for code in codes {
                assert!(
                    !text.contains(&format!("\"{code}\"")),
                    "{} spells the code {code}: use service_kit::ErrorKind ({})",
                    file.display(),
                    vocabulary.display()
                );
            }
        }
    }
}

/// The test code of a file, if it holds tests: a whole file under `tests/` (or a `tests.rs`
/// module), else what follows its `#[cfg(test)]`.
fn test_code(file: &Path) -> Option<String> {
    let text = read(file);
    let whole_file = file.components().any(|c| c.as_os_str() == "tests") || file.ends_with("tests.rs");
    let code = if whole_file { text } else { text.split_once("#[cfg(test)]")?.1.to_owned() };
    let has_tests = ["#[test]", "::test]", "proptest!"].iter().any(|marker| code.contains(marker));
    has_tests.then_some(code)
}

/// An assertion that can fail: an assert macro (or `ensure!`, `expect_err`) whose condition is
/// not the constant `true`.
fn asserts_something(code: &str) -> bool {
    let macros = ["assert!(", "assert_eq!(", "assert_ne!(", "prop_assert!(", "prop_assert_eq!(", "ensure!("];
    let asserts = macros.iter().any(|m| code.match_indices(m).any(|(at, _)| !code[at + m.len()..].starts_with("true")));
    asserts || code.contains(".expect_err(")
}

/// "One assertion of substance at least" (STYLE.md): a test module that asserts nothing
/// passes whatever the code does.
#[test]
fn every_test_module_asserts_something() {
    let mut hollow = Vec::new();
    for dir in crate_dirs() {
        for file in rust_files(&dir) {
            if test_code(&file).is_some_and(|code| !asserts_something(&code)) {
                hollow.push(file.display().to_string());
            }
        }
    }
    assert!(hollow.is_empty(), "these test modules assert nothing that could fail:\n{}", hollow.join("\n"));
    // The rule itself tells the two apart.
    assert!(!asserts_something("#[test] fn f() { assert!(true); }"));
    assert!(asserts_something("#[test] fn f() { assert_eq!(1 + 1, 2); }"));
}
