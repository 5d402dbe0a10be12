import CSodium

/// Runs `sodium_init` once per process, before the first libsodium call that needs it.
///
/// Swift initialises a `static let` lazily and exactly once, even when several threads reach
/// it at the same time, so this needs no lock of its own.
enum SodiumLibrary {
    private static let initialized: Bool = {
        guard sodium_init() >= 0 else { return false }
        // The Swift side hard-codes these sizes; a libsodium that disagrees must not be used.
        return crypto_aead_xchacha20poly1305_ietf_keybytes() == XChaCha20Poly1305.keyBytes
            && crypto_aead_xchacha20poly1305_ietf_npubbytes() == XChaCha20Poly1305.nonceBytes
            && crypto_aead_xchacha20poly1305_ietf_abytes() == XChaCha20Poly1305.tagBytes
            && crypto_secretstream_xchacha20poly1305_keybytes() == SecretStream.keyBytes
            && crypto_secretstream_xchacha20poly1305_headerbytes() == SecretStream.headerBytes
            && crypto_secretstream_xchacha20poly1305_abytes() == SecretStream.overheadBytes
            && crypto_secretstream_xchacha20poly1305_tag_message() == SecretStream.Tag.message.rawValue
            && crypto_secretstream_xchacha20poly1305_tag_push() == SecretStream.Tag.push.rawValue
            && crypto_secretstream_xchacha20poly1305_tag_rekey() == SecretStream.Tag.rekey.rawValue
            && crypto_secretstream_xchacha20poly1305_tag_final() == SecretStream.Tag.final.rawValue
            && crypto_generichash_bytes() == GenericHash.defaultOutputBytes
    }()

    /// Makes sure libsodium is initialised; stops the process if it cannot be.
    ///
    /// `sodium_init` fails only when the system offers no entropy source; continuing would
    /// produce predictable keys, so this is not a recoverable error.
    @inline(__always)
    static func ensureInitialized() {
        precondition(initialized, "libsodium could not be initialised (no entropy source or unexpected constants)")
    }
}
