//! PostgreSQL persistence of the `users` schema.

use crate::domain::{Role, User, Username};
use anyhow::Context as _;
use tokio_postgres::{GenericClient, Row, error::SqlState};
use uuid::Uuid;

/// The refinery migrations of `sql/users`.
pub mod migrations {
    refinery::embed_migrations!("../../sql/users");
}

/// The schema this service owns.
pub const SCHEMA: &str = "users";

const COLUMNS: &str = "id, username, role, created_at";

/// `Ok(None)`: the username is taken (whatever its case).
pub async fn insert(
    client: &impl GenericClient,
    username: &Username,
    password_hash: &str,
    role: Role,
) -> anyhow::Result<Option<User>> {
    let result = client
        .query_one(
            &format!(
                "INSERT INTO users.users (id, username, password_hash, role) VALUES ($1, $2, $3, $4)
                 RETURNING {COLUMNS}"
            ),
            &[&Uuid::now_v7(), &username.as_str(), &password_hash, &role.as_str()],
        )
        .await;
    match result {
        Ok(row) => Ok(Some(user(&row)?)),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Ok(None),
        Err(e) => Err(e).context("inserting a user"),
    }
}

/// The user and their password hash.
pub async fn by_username(client: &impl GenericClient, username: &Username) -> anyhow::Result<Option<(User, String)>> {
    let row = client
        .query_opt(
            &format!("SELECT {COLUMNS}, password_hash FROM users.users WHERE lower(username) = lower($1)"),
            &[&username.as_str()],
        )
        .await
        .context("looking up a username")?;
    row.map(|r| Ok((user(&r)?, r.get("password_hash")))).transpose()
}

pub async fn by_ids(client: &impl GenericClient, ids: &[Uuid]) -> anyhow::Result<Vec<User>> {
    client
        .query(&format!("SELECT {COLUMNS} FROM users.users WHERE id = ANY($1)"), &[&ids])
        .await
        .context("looking up users")?
        .iter()
        .map(user)
        .collect()
}

/// Usernames containing `query` (case-insensitive): exact matches first, then prefixes, then
/// the rest, alphabetically.
pub async fn search(client: &impl GenericClient, query: &str, limit: i64) -> anyhow::Result<Vec<User>> {
    let pattern = format!("%{}%", service_kit::db::like_literal(query));
    client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM users.users WHERE lower(username) LIKE $1
                 ORDER BY lower(username) = lower($2) DESC, lower(username) LIKE lower($2) || '%' DESC,
                          lower(username)
                 LIMIT $3"
            ),
            &[&pattern, &query, &limit],
        )
        .await
        .context("searching users")?
        .iter()
        .map(user)
        .collect()
}

/// Sets a user's password and role (the staff command re-run with new credentials).
pub async fn update_credentials(
    client: &impl GenericClient,
    id: Uuid,
    password_hash: &str,
    role: Role,
) -> anyhow::Result<()> {
    client
        .execute(
            "UPDATE users.users SET password_hash = $2, role = $3 WHERE id = $1",
            &[&id, &password_hash, &role.as_str()],
        )
        .await
        .context("updating a user's credentials")?;
    Ok(())
}

/// Records revoked tokens. Must run inside a transaction: it locks the table against other
/// writers until commit, so revocations commit in `seq` order. Without that, a logout that
/// took seq 5 but committed after one that took seq 6 would never be seen by a follower that
/// had already read 6 and asks for `seq > 6` from then on. Logouts are rare; readers are not
/// blocked (EXCLUSIVE mode still allows `SELECT`).
pub async fn revoke(
    transaction: &tokio_postgres::Transaction<'_>,
    revocation_ids: &[String],
    expires_at: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    transaction
        .batch_execute("LOCK TABLE users.revoked_tokens IN EXCLUSIVE MODE")
        .await
        .context("locking the revocation log")?;
    transaction
        .execute(
            "INSERT INTO users.revoked_tokens (revocation_id, expires_at)
             SELECT id, $2 FROM unnest($1::text[]) AS id
             ON CONFLICT (revocation_id) DO NOTHING",
            &[&revocation_ids, &expires_at],
        )
        .await
        .context("recording revoked tokens")?;
    Ok(())
}

/// Deletes revocations of tokens that have expired anyway (an expired token is refused without
/// them); returns how many.
pub async fn prune_expired_revocations(client: &impl GenericClient) -> anyhow::Result<u64> {
    client
        .execute("DELETE FROM users.revoked_tokens WHERE expires_at < now()", &[])
        .await
        .context("pruning expired revocations")
}

/// Revocation ids recorded after `after_seq` (at most `limit`), and the last seq returned.
pub async fn revocations_after(
    client: &impl GenericClient,
    after_seq: i64,
    limit: i64,
) -> anyhow::Result<(Vec<String>, i64)> {
    let rows = client
        .query(
            "SELECT seq, revocation_id FROM users.revoked_tokens WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&after_seq, &limit],
        )
        .await
        .context("reading revocations")?;
    let last = rows.last().map_or(after_seq, |r| r.get("seq"));
    Ok((rows.iter().map(|r| r.get("revocation_id")).collect(), last))
}

fn user(row: &Row) -> anyhow::Result<User> {
    let role: String = row.get("role");
    Ok(User {
        id: row.get("id"),
        username: row.get("username"),
        role: Role::parse(&role).with_context(|| format!("unknown role {role:?} in the database"))?,
        created_at: row.get("created_at"),
    })
}
