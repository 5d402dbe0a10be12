/// The vault's backend-neutral types (`MessageRecord`, `GrantRecord`, …) live in
/// `VaultContract`, which has no database in it, so the PostgreSQL backend shares them
/// without GRDB; every module that imports `Vault` sees them as before.
@_exported import VaultContract
