import Foundation
import Seal
import Testing

@testable import Vault

@Suite("Master key files")
struct KeyDirectoryTests {
    func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("retract-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("a new key file has mode 0600 and loads back as the active key")
    func createAndLoad() throws {
        let url = try scratch()
        defer { try? FileManager.default.removeItem(at: url) }
        let directory = KeyDirectory(url: url)
        let key = try directory.createKey()
        let path = url.appendingPathComponent("master-\(key.kid).key").path
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try directory.load().active.kid == key.kid)
    }

    @Test("a key file readable by group or others is refused with the chmod that fixes it")
    func exposedKeyRefused() throws {
        let url = try scratch()
        defer { try? FileManager.default.removeItem(at: url) }
        let directory = KeyDirectory(url: url)
        let key = try directory.createKey()
        let path = url.appendingPathComponent("master-\(key.kid).key").path
        for mode in [0o640, 0o604, 0o644] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            #expect(throws: VaultError.keyFileExposed(path)) { try directory.load() }
        }
        #expect(VaultError.keyFileExposed(path).description.contains("chmod 600 \(path)"))
    }

    @Test("an empty keys directory is an error that says to run retract init")
    func noKeys() throws {
        let url = try scratch()
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: VaultError.self) { try KeyDirectory(url: url).load() }
        #expect(VaultError.noMasterKey(url.path).description.contains("retract init"))
    }

    @Test("a malformed key file is refused")
    func malformed() throws {
        let url = try scratch()
        defer { try? FileManager.default.removeItem(at: url) }
        let path = url.appendingPathComponent("master-0000000100000000.key").path
        _ = FileManager.default.createFile(atPath: path, contents: Data("not a key\n".utf8), attributes: [.posixPermissions: 0o600])
        #expect(throws: VaultError.keyFileMalformed(path)) { try KeyDirectory(url: url).load() }
    }

    @Test("the newest key is the active one, and older ones stay available by kid")
    func newestIsActive() throws {
        let url = try scratch()
        defer { try? FileManager.default.removeItem(at: url) }
        let directory = KeyDirectory(url: url)
        let old = try directory.createKey(now: Date(timeIntervalSince1970: 1_700_000_000))
        let new = try directory.createKey(now: Date(timeIntervalSince1970: 1_800_000_000))
        let ring = try directory.load()
        #expect(ring.active.kid == new.kid)
        #expect(try ring.key(old.kid).kid == old.kid)
        #expect(throws: VaultError.self) { try ring.key("nope") }
    }

    @Test("a key made when the clock went back still sorts after the newest key, so it is the active one")
    func newKeySortsLast() throws {
        let url = try scratch()
        defer { try? FileManager.default.removeItem(at: url) }
        let directory = KeyDirectory(url: url)
        let later = try directory.createKey(now: Date(timeIntervalSince1970: 1_800_000_000))
        let earlier = try directory.createKey(now: Date(timeIntervalSince1970: 1_700_000_000))
        #expect(earlier.kid > later.kid)
        #expect(try directory.load().active.kid == earlier.kid)
        #expect(KeyDirectory.creationDate(ofKeyID: later.kid) == Date(timeIntervalSince1970: 1_800_000_000))
        #expect(KeyDirectory.creationDate(ofKeyID: "handmade") == nil)
    }

    @Test("destroying a key removes its file and leaves no copy under another name in the folder")
    func destroyRemovesFile() throws {
        let url = try scratch()
        defer { try? FileManager.default.removeItem(at: url) }
        let directory = KeyDirectory(url: url)
        let old = try directory.createKey(now: Date(timeIntervalSince1970: 1_700_000_000))
        let new = try directory.createKey(now: Date(timeIntervalSince1970: 1_800_000_000))
        let ring = try directory.load()
        try directory.destroyKey(old.kid)
        #expect(try FileManager.default.contentsOfDirectory(atPath: url.path) == ["master-\(new.kid).key"])
        #expect(try directory.keyIDs() == [new.kid])
        #expect(ring.keyIDs == [new.kid])
        #expect(throws: VaultError.self) { try directory.destroyKey(old.kid) }
        #expect(throws: VaultError.self) { try directory.destroyKey("../escape") }
    }

    @Test("a key found still needed once out of the listing is put back and not destroyed")
    func destroyPutsBackWhenStillNeeded() throws {
        let url = try scratch()
        defer { try? FileManager.default.removeItem(at: url) }
        let directory = KeyDirectory(url: url)
        let old = try directory.createKey(now: Date(timeIntervalSince1970: 1_700_000_000))
        _ = try directory.createKey(now: Date(timeIntervalSince1970: 1_800_000_000))
        var listedDuringCheck: [String] = []
        let error = #expect(throws: VaultError.self) {
            try directory.destroyKey(old.kid) {
                listedDuringCheck = try directory.keyIDs()
                return 1
            }
        }
        #expect(error?.description.contains("still seals 1 live value;") == true)
        #expect(!listedDuringCheck.contains(old.kid))
        #expect(try directory.load().key(old.kid).kid == old.kid)
    }
}
