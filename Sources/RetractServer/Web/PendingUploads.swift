import Foundation
import RetractCore

/// Attachments uploaded with a draft, kept on disk under a random id between "check before
/// sending" and the confirmed send, so the sender does not upload them twice.
///
/// Each entry belongs to one sender; it is deleted once the message is sent, when the
/// sender drops it, or after `lifetime`. Each request's files are one `UploadDirectory`
/// (folders `0700`, files `0600`) under the upload root the API uses too. Until the send
/// seals them the files wait enciphered under the service's in-memory `UploadStaging` key
/// (see docs/threat-model.md).
actor PendingUploads {
    struct Entry {
        var sender: String
        var createdAt: Date
        var folders: [URL]
        var files: [WebForm.File]
    }

    let root: URL
    let lifetime: TimeInterval
    let staging: UploadStaging
    private var entries: [String: Entry] = [:]

    /// Uploads under `root`, staged under `staging`; every folder an earlier process left
    /// there is removed (its entries and its key died with it).
    init(root: URL, lifetime: TimeInterval, staging: UploadStaging) {
        self.root = root
        self.lifetime = lifetime
        self.staging = staging
        UploadDirectory.removeAll(in: root)
    }

    /// A fresh empty folder for one request's files.
    nonisolated func newFolder() throws -> UploadDirectory {
        try UploadDirectory(root: root, staging: staging)
    }

    /// Keeps `files` (written into `folder`) for `sender`, added to the entry `id` when it is
    /// theirs; returns the id to carry in the form, or nil when nothing is kept.
    func keep(files: [WebForm.File], folder: URL, adding id: String?, sender: String) -> String? {
        sweep()
        if let id, var entry = entries[id], entry.sender == sender {
            entry.files += files
            entry.folders.append(folder)
            entries[id] = entry
            return id
        }
        guard !files.isEmpty else {
            try? FileManager.default.removeItem(at: folder)
            return nil
        }
        let id = Self.randomID()
        entries[id] = Entry(sender: sender, createdAt: Date(), folders: [folder], files: files)
        return id
    }

    /// The files of entry `id` when it belongs to `sender`.
    func files(_ id: String, sender: String) -> [WebForm.File] {
        sweep()
        guard let entry = entries[id], entry.sender == sender else { return [] }
        return entry.files
    }

    /// Deletes entry `id` (if it is `sender`'s) and its files.
    func remove(_ id: String, sender: String) {
        guard let entry = entries[id], entry.sender == sender else { return }
        entries[id] = nil
        for folder in entry.folders { try? FileManager.default.removeItem(at: folder) }
    }

    /// Number of entries kept (for tests).
    var count: Int { entries.count }

    private func sweep() {
        let limit = Date().addingTimeInterval(-lifetime)
        for (id, entry) in entries where entry.createdAt < limit {
            entries[id] = nil
            for folder in entry.folders { try? FileManager.default.removeItem(at: folder) }
        }
    }

    /// 16 random bytes as hex.
    static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
