extension PostgresMigrations {
    /// The vault's schema on PostgreSQL, one migration per change of the SQLite schema
    /// (`VaultDatabase+Schema.swift`), same names, same tables, columns, constraints and
    /// indexes, in PostgreSQL's types: `timestamptz` for GRDB's datetimes, `bytea` for blobs,
    /// `bigint` for SQLite's 64-bit integers, `bigserial` for its auto-incremented keys.
    ///
    /// One difference is deliberate: the sealed parts' ciphertext stays in the database as
    /// chunk rows (`sealed_chunks`), so every node serves every message; SQLite's v4 moved it
    /// to files beside the vault, and its PostgreSQL counterpart only tunes the chunk storage.
    ///
    /// Shipped migrations are frozen (their checksums are in every database they ran on).
    public static let vault = PostgresMigrations(vaultSchema)

    static let vaultSchema: [PostgresMigration] = [
        PostgresMigration(
            "v1-vault",
            [
                """
                CREATE TABLE messages (
                    id text PRIMARY KEY,
                    sender text NOT NULL,
                    sender_name text,
                    sealed_subject bytea NOT NULL,
                    subject_kid text NOT NULL,
                    locale text NOT NULL,
                    created_at timestamptz NOT NULL,
                    expires_at timestamptz,
                    max_views bigint CHECK (max_views > 0),
                    deliver_after timestamptz NOT NULL,
                    part_count bigint NOT NULL CHECK (part_count >= 1)
                )
                """,
                "CREATE INDEX messages_on_created_at ON messages (created_at)",
                """
                CREATE TABLE sealed_parts (
                    message_id text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
                    part_index bigint NOT NULL CHECK (part_index >= 0),
                    header bytea NOT NULL,
                    chunk_count bigint NOT NULL CHECK (chunk_count >= 1),
                    plaintext_size bigint NOT NULL CHECK (plaintext_size >= 0),
                    PRIMARY KEY (message_id, part_index)
                )
                """,
                """
                CREATE TABLE sealed_chunks (
                    message_id text NOT NULL,
                    part_index bigint NOT NULL,
                    chunk_index bigint NOT NULL CHECK (chunk_index >= 0),
                    data bytea NOT NULL,
                    PRIMARY KEY (message_id, part_index, chunk_index),
                    FOREIGN KEY (message_id, part_index) REFERENCES sealed_parts (message_id, part_index)
                        ON DELETE CASCADE
                )
                """,
                """
                CREATE TABLE grants (
                    id bigserial PRIMARY KEY,
                    message_id text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
                    token_hash bytea NOT NULL UNIQUE,
                    recipient text NOT NULL,
                    kind text NOT NULL CHECK (kind IN ('to', 'cc', 'bcc')),
                    share_kid text,
                    sealed_share bytea,
                    wrapped_dek bytea,
                    views bigint NOT NULL DEFAULT 0,
                    first_opened_at timestamptz,
                    last_opened_at timestamptz,
                    revoked_at timestamptz,
                    revoke_reason text,
                    notification_message_id text NOT NULL,
                    -- Live grants hold both halves of the key material, revoked ones neither.
                    CHECK ((revoked_at IS NULL) = (sealed_share IS NOT NULL AND wrapped_dek IS NOT NULL))
                )
                """,
                "CREATE INDEX grants_on_message_id ON grants (message_id)",
                """
                CREATE TABLE access_events (
                    id bigserial PRIMARY KEY,
                    grant_id bigint REFERENCES grants (id) ON DELETE CASCADE,
                    token_hash bytea NOT NULL,
                    at timestamptz NOT NULL,
                    result text NOT NULL
                )
                """,
                "CREATE INDEX access_events_on_grant_id ON access_events (grant_id)",
                "CREATE INDEX access_events_by_token ON access_events (token_hash, at)",
                """
                CREATE TABLE outbox (
                    id text PRIMARY KEY,
                    message_id text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
                    grant_id bigint REFERENCES grants (id) ON DELETE CASCADE,
                    kind text NOT NULL,
                    mail_from text NOT NULL,
                    recipient text NOT NULL,
                    rfc_message_id text NOT NULL,
                    sealed_data bytea,
                    data_kid text NOT NULL,
                    state text NOT NULL,
                    attempts bigint NOT NULL DEFAULT 0,
                    not_before timestamptz NOT NULL,
                    created_at timestamptz NOT NULL,
                    sent_at timestamptz,
                    last_error text
                )
                """,
                "CREATE INDEX outbox_on_message_id ON outbox (message_id)",
                "CREATE INDEX outbox_on_grant_id ON outbox (grant_id)",
                "CREATE INDEX outbox_due ON outbox (state, not_before)",
            ]),
        PostgresMigration(
            "v2-revocation",
            [
                "ALTER TABLE messages ADD COLUMN supersedes text REFERENCES messages (id)",
                "ALTER TABLE grants ADD COLUMN replacement_message_id text REFERENCES messages (id)",
            ]),
        PostgresMigration(
            "v3-delivery",
            [
                "ALTER TABLE outbox ADD COLUMN claimed_at timestamptz",
                "ALTER TABLE outbox ADD COLUMN last_reply text",
            ]),
        PostgresMigration(
            "v4-part-chunks",
            [
                // SQLite's v4 moved chunk ciphertext into files; here it stays in the database
                // (every node serves every part). Ciphertext does not compress: store it out of
                // line without trying to (EXTERNAL, not the default EXTENDED).
                "ALTER TABLE sealed_chunks ALTER COLUMN data SET STORAGE EXTERNAL"
            ]),
        PostgresMigration(
            "v5-senders",
            [
                // Sender accounts: the API token and the web password only as hashes.
                """
                CREATE TABLE senders (
                    address text PRIMARY KEY,
                    name text,
                    token_hash bytea NOT NULL UNIQUE,
                    password_hash text,
                    created_at timestamptz NOT NULL,
                    token_created_at timestamptz NOT NULL,
                    password_set_at timestamptz
                )
                """,
                // Web sessions: only the BLAKE2b hash of the cookie value.
                """
                CREATE TABLE web_sessions (
                    id_hash bytea PRIMARY KEY,
                    sender text NOT NULL REFERENCES senders (address) ON DELETE CASCADE,
                    created_at timestamptz NOT NULL,
                    last_seen_at timestamptz NOT NULL,
                    locale text
                )
                """,
                "CREATE INDEX web_sessions_on_sender ON web_sessions (sender)",
                // Failed attempts that count toward a rate limit, shared by every node.
                """
                CREATE TABLE rate_limit_events (
                    id bigserial PRIMARY KEY,
                    scope text NOT NULL,
                    subject text NOT NULL,
                    at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX rate_limit_events_lookup ON rate_limit_events (scope, subject, at)",
                "ALTER TABLE messages ADD COLUMN verify boolean NOT NULL DEFAULT false",
                """
                CREATE TABLE verification_codes (
                    grant_id bigint PRIMARY KEY REFERENCES grants (id) ON DELETE CASCADE,
                    code_hash bytea,
                    issued_at timestamptz,
                    expires_at timestamptz,
                    failed_count bigint NOT NULL DEFAULT 0,
                    locked_until timestamptz,
                    verified_until timestamptz
                )
                """,
            ]),
        PostgresMigration(
            "v6-access-events-failures",
            ["CREATE INDEX access_events_failures ON access_events (token_hash, result, at)"]),
        PostgresMigration(
            "v7-rate-limit-age",
            ["CREATE INDEX rate_limit_events_age ON rate_limit_events (at)"]),
        PostgresMigration(
            "v8-access-log-retention",
            [
                // Only failed and refused opens, by age, for the retention pruning.
                """
                CREATE INDEX access_events_prunable ON access_events (at)
                WHERE result NOT IN ('opened', 'attachment')
                """
            ]),
        PostgresMigration(
            "v9-gateway",
            ["ALTER TABLE messages ADD COLUMN origin text"]),
        PostgresMigration(
            "v10-manage-links",
            [
                """
                CREATE TABLE manage_links (
                    id_hash bytea PRIMARY KEY,
                    message_id text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
                    purpose text NOT NULL DEFAULT 'manage',
                    created_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX manage_links_on_message_id ON manage_links (message_id)",
                "ALTER TABLE web_sessions ADD COLUMN message_scope text",
            ]),
        PostgresMigration(
            "v11-inline-parts",
            // SQLite keeps a part of at most one chunk in its row; here every part's chunks
            // are rows already, so the column mirrors SQLite's and a backend may use it.
            ["ALTER TABLE sealed_parts ADD COLUMN inline_data bytea"]),
    ]
}
