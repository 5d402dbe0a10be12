import Sodium

/// One frozen change to the PostgreSQL vault's schema: a name and the statements that make
/// it, applied together in one transaction and never edited once shipped.
///
/// The checksum (BLAKE2b-256 of the statements) is recorded with the name in
/// `schema_migrations`, so a binary whose copy of a shipped migration differs from what the
/// database ran refuses to start instead of running on a schema it does not describe.
public struct PostgresMigration: Sendable, Equatable {
    /// The migration's name (`v1-vault`, …), unique and in the order they apply.
    public let name: String
    /// The SQL statements, one per element (PostgreSQL's extended protocol runs one at a time).
    public let statements: [String]

    /// Makes a migration from its name and statements.
    public init(_ name: String, _ statements: [String]) {
        self.name = name
        self.statements = statements
    }

    /// BLAKE2b-256 of the statements (each followed by a NUL), in hex.
    public var checksum: String {
        var hash = GenericHash()
        for statement in statements {
            hash.update(Array(statement.utf8))
            hash.update([0])
        }
        return Hex.encode(hash.finalize())
    }
}
