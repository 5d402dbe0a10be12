import Foundation
import GRDB

extension VaultDatabase {
    /// The schema, one migration per shipped change; shipped migrations are never edited.
    static func migrator(parts: SealedPartStore) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-vault") { db in
            try db.create(table: "messages") { t in
                t.primaryKey("id", .text).notNull()
                t.column("sender", .text).notNull()
                t.column("sender_name", .text)
                t.column("sealed_subject", .blob).notNull()
                t.column("subject_kid", .text).notNull()
                t.column("locale", .text).notNull()
                t.column("created_at", .datetime).notNull().indexed()
                t.column("expires_at", .datetime)
                t.column("max_views", .integer).check { $0 > 0 }
                t.column("deliver_after", .datetime).notNull()
                t.column("part_count", .integer).notNull().check { $0 >= 1 }
            }
            try db.create(table: "sealed_parts") { t in
                t.column("message_id", .text).notNull().references("messages", onDelete: .cascade)
                t.column("part_index", .integer).notNull().check { $0 >= 0 }
                t.column("header", .blob).notNull()
                t.column("chunk_count", .integer).notNull().check { $0 >= 1 }
                t.column("plaintext_size", .integer).notNull().check { $0 >= 0 }
                t.primaryKey(["message_id", "part_index"])
            }
            try db.create(table: "sealed_chunks") { t in
                t.column("message_id", .text).notNull()
                t.column("part_index", .integer).notNull()
                t.column("chunk_index", .integer).notNull().check { $0 >= 0 }
                t.column("data", .blob).notNull()
                t.primaryKey(["message_id", "part_index", "chunk_index"])
                t.foreignKey(["message_id", "part_index"], references: "sealed_parts", onDelete: .cascade)
            }
            try db.create(table: "grants") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("message_id", .text).notNull().indexed().references("messages", onDelete: .cascade)
                t.column("token_hash", .blob).notNull().unique()
                t.column("recipient", .text).notNull()
                t.column("kind", .text).notNull().check { ["to", "cc", "bcc"].contains($0) }
                t.column("share_kid", .text)
                t.column("sealed_share", .blob)
                t.column("wrapped_dek", .blob)
                t.column("views", .integer).notNull().defaults(to: 0)
                t.column("first_opened_at", .datetime)
                t.column("last_opened_at", .datetime)
                t.column("revoked_at", .datetime)
                t.column("revoke_reason", .text)
                t.column("notification_message_id", .text).notNull()
                // Live grants hold both halves of the key material, revoked ones neither.
                t.check(sql: "(revoked_at IS NULL) = (sealed_share IS NOT NULL AND wrapped_dek IS NOT NULL)")
            }
            try db.create(table: "access_events") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("grant_id", .integer).indexed().references("grants", onDelete: .cascade)
                t.column("token_hash", .blob).notNull()
                t.column("at", .datetime).notNull()
                t.column("result", .text).notNull()
            }
            try db.create(index: "access_events_by_token", on: "access_events", columns: ["token_hash", "at"])
            try db.create(table: "outbox") { t in
                t.primaryKey("id", .text).notNull()
                t.column("message_id", .text).notNull().indexed().references("messages", onDelete: .cascade)
                t.column("grant_id", .integer).indexed().references("grants", onDelete: .cascade)
                t.column("kind", .text).notNull()
                t.column("mail_from", .text).notNull()
                t.column("recipient", .text).notNull()
                t.column("rfc_message_id", .text).notNull()
                t.column("sealed_data", .blob)
                t.column("data_kid", .text).notNull()
                t.column("state", .text).notNull()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("not_before", .datetime).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("sent_at", .datetime)
                t.column("last_error", .text)
            }
            try db.create(index: "outbox_due", on: "outbox", columns: ["state", "not_before"])
        }
        migrator.registerMigration("v2-revocation") { db in
            try db.alter(table: "messages") { t in
                t.add(column: "supersedes", .text).references("messages")
            }
            try db.alter(table: "grants") { t in
                t.add(column: "replacement_message_id", .text).references("messages")
            }
        }
        migrator.registerMigration("v3-delivery") { db in
            try db.alter(table: "outbox") { t in
                t.add(column: "claimed_at", .datetime)
                t.add(column: "last_reply", .text)
            }
        }
        migrator.registerMigration("v4-part-files") { db in
            // Chunk ciphertext moves out of SQLite into one file per part (SealedPartStore).
            // Parts stored by earlier versions are copied into their files, which are fsynced
            // before this migration commits; then the table is dropped (secure_delete
            // overwrites its pages). A failed migration leaves files that the next attempt
            // rewrites (O_TRUNC) or that the orphan sweep removes.
            let chunks = try Row.fetchCursor(
                db,
                sql: "SELECT message_id, part_index, chunk_index, data FROM sealed_chunks ORDER BY message_id, part_index, chunk_index")
            var current: (key: String, output: SealedPartStore.Output)?
            var wrote = false
            while let row = try chunks.next() {
                let messageID: String = row["message_id"]
                let part: Int = row["part_index"]
                let key = SealedPartStore.fileName(messageID: messageID, part: part)
                if current?.key != key {
                    try current?.output.syncAndClose()
                    current = (key, try parts.create(messageID: messageID, part: part))
                    wrote = true
                }
                let data: Data = row["data"]
                try data.withUnsafeBytes { try current!.output.append($0) }
            }
            try current?.output.syncAndClose()
            if wrote { try parts.syncDirectory() }
            try db.drop(table: "sealed_chunks")
        }
        migrator.registerMigration("v5-senders") { db in
            // Sender accounts: the API token and the web password are stored only as
            // hashes (BLAKE2b of the token, libsodium's Argon2id string of the password).
            try db.create(table: "senders") { t in
                t.primaryKey("address", .text)
                t.column("name", .text)
                t.column("token_hash", .blob).notNull().unique()
                t.column("password_hash", .text)
                t.column("created_at", .datetime).notNull()
                t.column("token_created_at", .datetime).notNull()
                t.column("password_set_at", .datetime)
            }
            // Web sessions: the cookie value is never stored, only its BLAKE2b hash; the
            // CSRF token is derived from the session, so it needs no column.
            try db.create(table: "web_sessions") { t in
                t.primaryKey("id_hash", .blob)
                t.column("sender", .text).notNull().indexed()
                    .references("senders", column: "address", onDelete: .cascade)
                t.column("created_at", .datetime).notNull()
                t.column("last_seen_at", .datetime).notNull()
                t.column("locale", .text)
            }
            // Failed attempts that count toward a rate limit, kept across restarts:
            // scope says which limit (`signin-account`, `signin-client`, `open-client`, …),
            // subject what is limited (an account, a client address, a token hash in hex).
            try db.create(table: "rate_limit_events") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("scope", .text).notNull()
                t.column("subject", .text).notNull()
                t.column("at", .datetime).notNull()
            }
            try db.create(
                index: "rate_limit_events_lookup", on: "rate_limit_events", columns: ["scope", "subject", "at"])
            // Recipient verification: a grant of a message sent with `verify` opens only
            // with a 6-digit code mailed to the recipient; the code is stored hashed.
            try db.alter(table: "messages") { t in
                t.add(column: "verify", .boolean).notNull().defaults(to: false)
            }
            try db.create(table: "verification_codes") { t in
                t.primaryKey("grant_id", .integer).references("grants", onDelete: .cascade)
                t.column("code_hash", .blob)
                t.column("issued_at", .datetime)
                t.column("expires_at", .datetime)
                t.column("failed_count", .integer).notNull().defaults(to: 0)
                t.column("locked_until", .datetime)
                t.column("verified_until", .datetime)
            }
        }
        migrator.registerMigration("v6-access-events-failures") { db in
            // The failed-attempt limit counts one token's `invalid_key` events in a time
            // window; with only (token_hash, at) that query read every open of the token in
            // the window, so each open got slower the more the link had been opened.
            try db.create(
                index: "access_events_failures", on: "access_events", columns: ["token_hash", "result", "at"])
        }
        migrator.registerMigration("v7-rate-limit-age") { db in
            // Every recorded failure prunes the events older than the retention across all
            // scopes; without an index on `at` that was a scan of the whole table per failed
            // open or sign-in, the very requests an attacker can send in bulk.
            try db.create(index: "rate_limit_events_age", on: "rate_limit_events", columns: ["at"])
        }
        migrator.registerMigration("v8-access-log-retention") { db in
            // Failed and refused opens are pruned after RETRACT_ACCESS_LOG_RETENTION; this
            // partial index holds only those rows, by age, so the pruning query reads neither
            // the whole table nor the successful opens that stay.
            try db.execute(
                sql: """
                    CREATE INDEX access_events_prunable ON access_events(at)
                    WHERE result NOT IN ('opened', 'attachment')
                    """)
        }
        migrator.registerMigration("v9-gateway") { db in
            // Mail the SMTP gateway received is marked so the sender's lists can say so;
            // NULL for everything sent through the CLI, the API or the web app.
            try db.alter(table: "messages") { t in
                t.add(column: "origin", .text)
            }
        }
        migrator.registerMigration("v10-manage-links") { db in
            // A sender's manage links (the gateway receipt's, and those a mail listing several
            // candidates carries) and recall addresses (the receipt's Reply-To): only the
            // BLAKE2b hash of each capability. A web session
            // begun with one is limited to that message (`message_scope`); NULL for a session
            // begun with the password.
            try db.create(table: "manage_links") { t in
                t.primaryKey("id_hash", .blob)
                t.column("message_id", .text).notNull().indexed()
                    .references("messages", column: "id", onDelete: .cascade)
                // `manage` (opens the page) or `reply` (the receipt's recall address).
                t.column("purpose", .text).notNull().defaults(to: "manage")
                t.column("created_at", .datetime).notNull()
            }
            try db.alter(table: "web_sessions") { t in
                t.add(column: "message_scope", .text)
            }
        }
        migrator.registerMigration("v11-inline-parts") { db in
            // A part of at most one sealed chunk (every envelope, most gateway mail) is kept
            // in its row instead of a file of its own: no inode, fsync or rename per part.
            // Older parts keep their files (NULL here).
            try db.alter(table: "sealed_parts") { t in
                t.add(column: "inline_data", .blob)
            }
        }
        return migrator
    }
}
