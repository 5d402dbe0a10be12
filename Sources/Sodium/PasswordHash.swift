import CSodium

/// Argon2id password hashing (`crypto_pwhash_str`) at libsodium's interactive limits.
///
/// The result is a self-describing `$argon2id$…` string holding salt and parameters, so it
/// can be stored as is and verified later even if the limits change.
public enum PasswordHash {
    /// Hashes `password` with a fresh random salt; takes about 0.1 s and 64 MiB.
    public static func hash(_ password: String) throws(SodiumError) -> String {
        SodiumLibrary.ensureInitialized()
        let capacity = crypto_pwhash_strbytes()
        let passwordCount = password.utf8.count
        var status: Int32 = 0
        let encoded = password.withCString { input in
            String(unsafeUninitializedCapacity: capacity) { buffer in
                buffer.withMemoryRebound(to: CChar.self) { out in
                    status = crypto_pwhash_str(
                        out.baseAddress!,
                        input, UInt64(passwordCount),
                        UInt64(crypto_pwhash_opslimit_interactive()),
                        crypto_pwhash_memlimit_interactive()
                    )
                }
                guard status == 0 else { return 0 }
                return buffer.firstIndex(of: 0) ?? 0
            }
        }
        guard status == 0, !encoded.isEmpty else { throw .passwordHashFailed }
        return encoded
    }

    /// Whether `password` matches `hash` (a string from `hash(_:)`); a malformed hash
    /// never matches.
    public static func verify(_ password: String, against hash: String) -> Bool {
        SodiumLibrary.ensureInitialized()
        let passwordCount = password.utf8.count
        return password.withCString { input in
            hash.withCString { stored in
                crypto_pwhash_str_verify(stored, input, UInt64(passwordCount)) == 0
            }
        }
    }

    /// Whether `hash` was made with other limits than today's and should be replaced at the
    /// next successful login.
    public static func needsRehash(_ hash: String) -> Bool {
        SodiumLibrary.ensureInitialized()
        return hash.withCString { stored in
            crypto_pwhash_str_needs_rehash(
                stored,
                UInt64(crypto_pwhash_opslimit_interactive()),
                crypto_pwhash_memlimit_interactive()
            ) != 0
        }
    }
}
