import PostgresNIO

/// Why the PostgreSQL vault's schema could not be brought up to date, in one line that says
/// what to do.
public struct PostgresMigrationError: Error, Equatable, CustomStringConvertible {
    /// The one-line explanation.
    public let description: String

    private init(_ description: String) { self.description = description }

    /// The database has migrations this binary does not know: a newer Retract ran on it.
    static func schemaNewer(_ names: [String]) -> Self {
        Self(
            "the database schema is newer than this binary (it has \(names.joined(separator: ", "))): "
                + "run the Retract version that migrated it, or a later one")
    }

    /// A shipped migration was changed after the database ran it.
    static func edited(_ name: String) -> Self {
        Self(
            "migration \(name) in this binary differs from the one the database ran: "
                + "shipped migrations are frozen; add a new migration instead")
    }

    /// The database ran migrations in an order this binary does not have.
    static func outOfOrder(_ name: String, expected: String) -> Self {
        Self("the database ran migration \(name) where this binary has \(expected): the schema is not one Retract made")
    }

    /// A statement or the connection failed; the server's SQLSTATE and message, never a bind.
    static func failed(_ step: String, _ error: any Error) -> Self {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return Self("\(step) failed: \(message)\(state)")
            }
            return Self("\(step) failed: \(error.code) — is the database reachable?")
        }
        return Self("\(step) failed: \(error)")
    }
}
