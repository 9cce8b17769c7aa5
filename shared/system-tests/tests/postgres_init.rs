//! Production's database start-up without Docker: `compose/postgres-init.sh` runs on a private
//! PostgreSQL cluster exactly as the postgres image runs `/docker-entrypoint-initdb.d/*.sh`, then
//! every service migrates its schema as its own role, with its own password, through the URL the
//! image's entrypoint (`compose/service-entrypoint.sh`) builds.
//!
//! The cluster is this test's own (Debian's `initdb` and `pg_ctl`, run as the `postgres` OS user,
//! in a temporary directory on a free port) and is stopped and removed when the test ends, passed
//! or failed.

use service_kit::config::{DatabaseSettings, parse_database_url};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn repo() -> PathBuf {
    system_tests::repo()
}

/// The newest PostgreSQL server installed from Debian's packages (ci/test installs it).
fn postgres_bin() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("{} is missing ({e}): ci/test installs Debian's postgresql", root.display()))
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL server under /usr/lib/postgresql/*/bin").1
}

/// A command run as the `postgres` OS user: PostgreSQL refuses to run as root.
fn as_postgres(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut command = if root {
        // By its full path: some callers clear the environment (and PATH may lack sbin).
        let runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or("runuser");
        let mut c = Command::new(runuser);
        c.args(["-u", "postgres", "--"]);
        c
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", "-E", "-u", "postgres", "--"]);
        c
    };
    command.arg(program);
    command
}

fn run(what: &str, command: &mut Command) -> Output {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: could not start ({e})"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("unwrap: loopback has free ports");
    listener.local_addr().expect("unwrap: a bound socket has an address").port()
}

/// A password no SQL literal or URL could carry unescaped, different on every run.
fn awkward_password(service: &str) -> String {
    format!("{service}'\"\\ @:/?#%&$`;--ü-{}", uuid::Uuid::new_v4().simple())
}

/// A PostgreSQL cluster of this test's own; stopped and deleted on drop.
struct PrivateCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    running: bool,
}

impl PrivateCluster {
    /// `initdb` as the image runs it: the superuser named by POSTGRES_USER with POSTGRES_PASSWORD,
    /// then `host all all all scram-sha-256` appended to pg_hba.conf. The services reach the
    /// image's server from other containers, where that line applies; here they come over
    /// loopback, so `--auth-host=scram-sha-256` (a POSTGRES_INITDB_ARGS the image accepts) makes
    /// loopback ask for the password too, and a mangled password fails the test.
    fn init(superuser: &str, superuser_password: &str) -> Self {
        let dir = tempfile::Builder::new().prefix("pg-init-").tempdir().expect("unwrap: a temp dir");
        run("chown", Command::new("chown").args(["postgres:postgres"]).arg(dir.path()));
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, format!("{superuser_password}\n")).expect("unwrap: writable temp dir");
        run("chown", Command::new("chown").args(["postgres:postgres"]).arg(&pwfile));
        let cluster = Self { bin: postgres_bin(), port: free_port(), running: false, dir };
        run(
            "initdb",
            as_postgres(cluster.bin.join("initdb"))
                .arg("-D")
                .arg(cluster.data())
                .arg(format!("--username={superuser}"))
                .arg(format!("--pwfile={}", pwfile.display()))
                .args(["--auth-local=trust", "--auth-host=scram-sha-256"]),
        );
        std::fs::remove_file(&pwfile).expect("unwrap: our own file");
        let hba = cluster.data().join("pg_hba.conf");
        let mut rules = std::fs::read_to_string(&hba).expect("unwrap: initdb writes pg_hba.conf");
        rules.push_str("\nhost all all all scram-sha-256\n");
        std::fs::write(&hba, rules).expect("unwrap: pg_hba.conf is writable by root");
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// `pg_ctl start -w` (it polls until the server accepts connections, with a deadline).
    /// `listen_addresses = ''` is the image's socket-only server for the init scripts.
    fn start(&mut self, listen_addresses: &str) {
        let options =
            format!("-c listen_addresses='{listen_addresses}' -p {} -k {}", self.port, self.socket_dir().display());
        run(
            "pg_ctl start",
            as_postgres(self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(self.dir.path().join("server.log"))
                .args(["-w", "-t", "60", "-o", &options, "start"]),
        );
        self.running = true;
    }

    fn stop(&mut self, mode: &str) {
        run(
            "pg_ctl stop",
            as_postgres(self.bin.join("pg_ctl")).arg("-D").arg(self.data()).args(["-m", mode, "-w", "stop"]),
        );
        self.running = false;
    }

    /// What a health check sees: `pg_isready` against `host` (an address or the socket folder).
    fn ready_at(&self, host: &str) -> bool {
        Command::new(self.bin.join("pg_isready"))
            .args(["-h", host, "-p", &self.port.to_string(), "-t", "5"])
            .stdout(Stdio::null())
            .status()
            .expect("unwrap: pg_isready runs")
            .success()
    }

    /// psql as the image's entrypoint runs it: the superuser over the Unix socket.
    fn superuser_psql(&self, superuser: &str, sql: &str, args: &[&str]) {
        use std::io::Write as _;
        let mut child = as_postgres(self.bin.join("psql"))
            .args(["-v", "ON_ERROR_STOP=1", "--no-psqlrc", "--no-password", "--username", superuser])
            .arg("--host")
            .arg(self.socket_dir())
            .args(["--port", &self.port.to_string()])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("unwrap: psql runs");
        child.stdin.take().expect("unwrap: piped").write_all(sql.as_bytes()).expect("unwrap: psql reads stdin");
        let output = child.wait_with_output().expect("unwrap: psql ends");
        assert!(output.status.success(), "psql: {}", String::from_utf8_lossy(&output.stderr));
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if self.running {
            // Best effort while unwinding too: `immediate` needs no client to leave.
            let _ = as_postgres(self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(self.data())
                .args(["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

struct ServiceRole {
    schema: &'static str,
    role: &'static str,
    password_var: &'static str,
    password: String,
}

fn service_roles() -> Vec<ServiceRole> {
    vec![
        ServiceRole {
            schema: orders::store::SCHEMA,
            role: "orders_svc",
            password_var: "ORDERS_DB_PASSWORD",
            password: awkward_password("orders"),
        },
        ServiceRole {
            schema: kitchen::store::SCHEMA,
            role: "kitchen_svc",
            password_var: "KITCHEN_DB_PASSWORD",
            password: awkward_password("kitchen"),
        },
        ServiceRole {
            schema: users::store::SCHEMA,
            role: "users_svc",
            password_var: "USERS_DB_PASSWORD",
            password: awkward_password("users"),
        },
    ]
}

/// The image's entrypoint turns compose's password-less DATABASE_URL and the password — in the
/// file DATABASE_PASSWORD_FILE names, as compose passes it (`secrets:`), or in DATABASE_PASSWORD
/// — into the URL the service reads.
fn database_url_from_entrypoint(role: &ServiceRole, port: u16, password_file: Option<&Path>) -> String {
    let mut command = Command::new(repo().join("compose/service-entrypoint.sh"));
    command
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("DATABASE_URL", format!("postgresql://{}@127.0.0.1:{port}/restaurant", role.role))
        .args(["printenv", "DATABASE_URL"]);
    match password_file {
        Some(file) => command.env("DATABASE_PASSWORD_FILE", file),
        None => command.env("DATABASE_PASSWORD", &role.password),
    };
    let output = run("service-entrypoint.sh", &mut command);
    String::from_utf8(output.stdout).expect("unwrap: a URL is ASCII").trim_end().to_owned()
}

/// What each service runs at start (`db::migrate` with its own embedded migrations).
async fn migrate(pool: &service_kit::db::PgPool, schema: &str) -> anyhow::Result<()> {
    match schema {
        orders::store::SCHEMA => {
            service_kit::db::migrate(pool, schema, orders::store::migrations::migrations::runner()).await
        }
        kitchen::store::SCHEMA => {
            service_kit::db::migrate(pool, schema, kitchen::store::migrations::migrations::runner()).await
        }
        users::store::SCHEMA => {
            service_kit::db::migrate(pool, schema, users::store::migrations::migrations::runner()).await
        }
        other => anyhow::bail!("no service owns the schema {other}"),
    }
}

fn pool_for(url: &str) -> service_kit::db::PgPool {
    let pg = parse_database_url(url).expect("the entrypoint's URL parses");
    service_kit::db::pool(&DatabaseSettings { pg, max_connections: 2 }).expect("unwrap: a pool")
}

#[tokio::test]
async fn every_service_migrates_as_its_own_role_on_a_cluster_set_up_by_the_init_script() {
    const SUPERUSER: &str = "postgres";
    const DATABASE: &str = "restaurant";
    let superuser_password = awkward_password("postgres");
    let roles = service_roles();
    let mut cluster = PrivateCluster::init(SUPERUSER, &superuser_password);

    // The image's init phase: a socket-only server. A health check over TCP must not pass yet
    // (compose's `pg_isready -h 127.0.0.1`), while the init scripts are connected over the socket.
    cluster.start("");
    let socket = cluster.socket_dir().display().to_string();
    assert!(cluster.ready_at(&socket), "the init-phase server answers on its socket");
    assert!(!cluster.ready_at("127.0.0.1"), "a TCP health check passes while the init scripts still run");

    // docker_setup_db: CREATE DATABASE "$POSTGRES_DB".
    cluster.superuser_psql(SUPERUSER, "CREATE DATABASE :\"db\" ;", &["--dbname", "postgres", "--set", "db=restaurant"]);

    // docker_process_init_files: the script mounted as 10-roles.sh, run if executable (else
    // sourced), as the postgres user, with the container's environment.
    let initdb_d = cluster.dir.path().join("docker-entrypoint-initdb.d");
    std::fs::create_dir(&initdb_d).expect("unwrap: our own temp dir");
    let script = initdb_d.join("10-roles.sh");
    std::fs::copy(repo().join("compose/postgres-init.sh"), &script).expect("unwrap: the init script exists");
    let executable = std::fs::metadata(&script).expect("unwrap: copied").permissions().mode() & 0o111 != 0;
    let mut init = if executable {
        as_postgres(&script)
    } else {
        let mut c = as_postgres("bash");
        c.arg("-c").arg(". \"$0\"").arg(&script);
        c
    };
    init.env_clear()
        .env("PATH", format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", cluster.bin.display()))
        .env("POSTGRES_USER", SUPERUSER)
        .env("POSTGRES_DB", DATABASE)
        .env("POSTGRES_PASSWORD", &superuser_password)
        .env("PGPASSWORD", &superuser_password)
        .env("PGDATA", cluster.data())
        // Where this cluster's socket is; the image's is the default, /var/run/postgresql.
        .env("PGHOST", cluster.socket_dir())
        .env("PGPORT", cluster.port.to_string());
    // The first role's password as compose passes them all (a file under /run/secrets, named
    // by `<VAR>_FILE`, ending in a newline), the others as variables: both ways are read.
    let password_file = cluster.dir.path().join("orders_db_password");
    std::fs::write(&password_file, format!("{}\n", roles[0].password)).expect("unwrap: our own temp dir");
    std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o644)).expect("unwrap: our file");
    init.env(format!("{}_FILE", roles[0].password_var), &password_file);
    for role in &roles[1..] {
        init.env(role.password_var, &role.password);
    }
    run("compose/postgres-init.sh", &mut init);

    // The image stops the init server and starts the real one, listening on TCP.
    cluster.stop("fast");
    cluster.start("127.0.0.1");
    assert!(cluster.ready_at("127.0.0.1"), "the server answers over TCP once init is done");

    let mut pools = Vec::new();
    for (index, role) in roles.iter().enumerate() {
        let url = database_url_from_entrypoint(role, cluster.port, (index == 0).then_some(password_file.as_path()));
        assert!(!url.contains(&role.password), "the password reaches the URL percent-encoded");
        let pool = pool_for(&url);

        // The premise: a service role has no CREATE on the database, so a blind
        // `CREATE SCHEMA IF NOT EXISTS` fails even though the schema exists.
        let client = pool.get().await.unwrap_or_else(|e| panic!("{} signs in with its password: {e}", role.role));
        let blind = client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {}", role.schema)).await;
        assert_eq!(sqlstate(&blind).as_deref(), Some("42501"), "{} may create schemas in the database", role.role);
        drop(client);

        // What the service does at start, twice (a restart finds everything applied).
        for start in ["first", "second"] {
            migrate(&pool, role.schema)
                .await
                .unwrap_or_else(|e| panic!("{} migrating {} ({start} start): {e:#}", role.role, role.schema));
        }
        let client = pool.get().await.expect("unwrap: signed in above");
        let applied: i64 = client
            .query_one(&format!("SELECT count(*) FROM {}.schema_history", role.schema), &[])
            .await
            .expect("the migration history is in the service's own schema")
            .get(0);
        assert!(applied >= 1, "{} recorded no migration", role.schema);
        pools.push(pool);
    }

    // Every schema is migrated now; no role reads another service's.
    for (role, pool) in roles.iter().zip(&pools) {
        let client = pool.get().await.expect("unwrap: signed in above");
        for other in roles.iter().filter(|other| other.schema != role.schema) {
            let read = client.query(&format!("SELECT 1 FROM {}.schema_history", other.schema), &[]).await;
            assert_eq!(sqlstate(&read).as_deref(), Some("42501"), "{} reads the {} schema", role.role, other.schema);
        }
    }
    drop(pools);
    cluster.stop("fast");
}

/// The SQLSTATE of a failed statement (`None` when it succeeded or never reached the server).
fn sqlstate<T>(result: &Result<T, tokio_postgres::Error>) -> Option<String> {
    result.as_ref().err().and_then(|e| e.as_db_error()).map(|e| e.code().code().to_owned())
}
