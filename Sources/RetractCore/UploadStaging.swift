import Foundation
import Sodium

/// The key that uploads wait on disk under, between their arrival and their sealing: made
/// when the service starts, held only in its memory, never written anywhere.
///
/// An uploaded attachment must be on disk for a moment (it may be 100 MiB, and the web app
/// keeps a draft's files until the sender confirms), but not readable: a staged file is its
/// `StagingCipher` nonce (24 bytes) and then the file enciphered, so after a crash or a
/// `kill -9` the bytes left in `uploads/` are unreadable by anyone, this service included
/// after its restart (which removes them).
public final class UploadStaging: Sendable {
    private let key: SecureBytes

    /// A fresh random key.
    public init() {
        key = SecureBytes.random(count: StagingCipher.keyBytes)
    }

    /// The cipher for a new staged file (a fresh nonce); the file starts with `nonce`.
    public func newFileCipher() -> StagingCipher {
        StagingCipher(key: key)
    }

    /// The cipher of a staged file, from the nonce its first 24 bytes hold.
    public func cipher(nonce: [UInt8]) -> StagingCipher {
        StagingCipher(key: key, nonce: nonce)
    }
}
