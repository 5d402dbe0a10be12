import Foundation
import Gateway
import Mail
import RetractCore
import RetractServer
import SMTP
import Seal
import Sodium

/// Every parser of hostile input that Retract fuzzes, by the name of its libFuzzer
/// executable (Fuzz/Sources/<rawValue>) and its seed corpus (Fuzz/Corpus/<rawValue>).
///
/// The fuzz executables and the corpus replay of `make test` (Tests/FuzzReplayTests) call
/// the same `run`, so an input that once crashed a parser is replayed by every test run.
/// A parser may throw or answer nil; it must never trap, over-read or hang.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case SMTPServerCommandFuzz
    case SMTPServerFramesFuzz
    case IncomingHeadersFuzz
    case AttachmentExtractorFuzz
    case ParsedMailFuzz
    case HeaderFieldsFuzz
    case BodyDecodingFuzz
    case CharsetFuzz
    case HTMLSanitizerFuzz
    case CSSSanitizerFuzz
    case SMTPReplyFuzz
    case LinkFuzz
    case SealedPartFuzz
    case SealedEnvelopeFuzz
    case RecallRequestFuzz
    case RevokeReplyFuzz
    case AcceptLanguageFuzz
    case RequestHeadersFuzz
    case APIJSONFuzz

    /// Runs one input through the target's parser.
    public func run(_ bytes: [UInt8]) {
        switch self {
        case .SMTPServerCommandFuzz: SMTPFuzzEntry.serverCommand(bytes)
        case .SMTPServerFramesFuzz: SMTPFuzzEntry.serverFrames(bytes)
        case .IncomingHeadersFuzz: RetractCoreFuzzEntry.incomingHeaders(bytes)
        case .AttachmentExtractorFuzz: RetractCoreFuzzEntry.attachments(bytes, directory: Self.scratch)
        case .ParsedMailFuzz: MailFuzzEntry.parsedMail(bytes)
        case .HeaderFieldsFuzz: MailFuzzEntry.headerFields(bytes)
        case .BodyDecodingFuzz: MailFuzzEntry.bodyDecoding(bytes)
        case .CharsetFuzz: MailFuzzEntry.charset(bytes)
        case .HTMLSanitizerFuzz: MailFuzzEntry.html(bytes)
        case .CSSSanitizerFuzz: MailFuzzEntry.css(bytes)
        case .SMTPReplyFuzz: MailFuzzEntry.smtpReplies(bytes)
        case .LinkFuzz: Self.link(bytes)
        case .SealedPartFuzz: Self.sealedPart(bytes)
        case .SealedEnvelopeFuzz: Self.sealedEnvelope(bytes)
        case .RecallRequestFuzz: GatewayFuzzEntry.recallRequest(bytes, directory: Self.scratch)
        case .RevokeReplyFuzz: _ = RevokeReplyCommand.parse(String(decoding: bytes, as: UTF8.self))
        case .AcceptLanguageFuzz: RetractServerFuzzEntry.acceptLanguage(bytes)
        case .RequestHeadersFuzz: RetractServerFuzzEntry.requestHeaders(bytes)
        case .APIJSONFuzz: RetractServerFuzzEntry.apiJSON(bytes)
        }
    }

    /// Runs the bytes at `start` (libFuzzer's `LLVMFuzzerTestOneInput` arguments).
    public func run(_ start: UnsafePointer<UInt8>?, _ count: Int) {
        guard let start, count > 0 else { return self.run([]) }
        self.run(Array(UnsafeBufferPointer(start: start, count: count)))
    }

    /// A directory of this process's own for the targets that read a file.
    static let scratch: URL = {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("retract-fuzz-\(ProcessInfo.processInfo.processIdentifier)", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// A pasted link, and its token and key alone, through `Link.parse` and the base64url
    /// decoders; a parsed link must print back to a link that parses to the same token.
    static func link(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = try? GrantToken(base64url: text)
        _ = try? LinkKey(base64url: text)
        _ = try? MessageID(parsing: text)
        guard let link = try? Link.parse(text) else { return }
        let again = try? Link.parse(link.url(publicBase: "https://retract.example"))
        precondition(again?.token == link.token, "a parsed link does not survive printing")
    }

    /// A fixed data key and message for the sealed-part target (not a secret: a test value).
    static let dataKey = try! DataKey(secret: SecureBytes(copying: [UInt8](repeating: 0x5A, count: DataKey.byteCount)))
    static let messageID = try! MessageID(bytes: [UInt8](repeating: 0x11, count: MessageID.byteCount))
    static let master = try! MasterKey(kid: "fuzz", secret: SecureBytes(copying: [UInt8](repeating: 0x33, count: 32)))

    /// Two checks on the part format. First the bytes as a hostile sealed part: a 24-byte
    /// header, then chunks each behind a 2-byte big-endian length, opened both whole
    /// (`PartCrypto.open`) and streaming (`PartOpener`); and as sealed metadata. Then the
    /// bytes after the first two as a plaintext, sealed and opened again (it must come back
    /// unchanged), and once more with the byte the first two name flipped (it must throw).
    static func sealedPart(_ bytes: [UInt8]) {
        let header = Array(bytes.prefix(SealFormat.partHeaderSize))
        var chunks: [[UInt8]] = []
        var offset = header.count
        while offset + 2 <= bytes.count {
            let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
            let end = min(bytes.count, offset + 2 + length)
            chunks.append(Array(bytes[(offset + 2)..<end]))
            offset = end
        }
        _ = try? PartCrypto.open(SealedPart(header: header, chunks: chunks), dataKey: dataKey, messageID: messageID, partIndex: 1)
        if let opener = try? PartOpener(dataKey: dataKey, messageID: messageID, partIndex: 1, header: header) {
            do {
                for chunk in chunks { _ = try opener.openChunk(chunk) }
                try opener.finish()
            } catch {}
        }
        _ = try? GrantCrypto.openMetadata(bytes, master: master, context: Array("fuzz".utf8))

        guard bytes.count >= 2 else { return }
        let plaintext = Array(bytes.dropFirst(2))
        let sealed = PartCrypto.seal(plaintext, dataKey: dataKey, messageID: messageID, partIndex: 2)
        let opened = try? PartCrypto.open(sealed, dataKey: dataKey, messageID: messageID, partIndex: 2)
        precondition(opened == plaintext, "a sealed part does not open to its plaintext")
        var flat = sealed.header + sealed.chunks.joined()
        let flip = Int(bytes[0]) << 8 | Int(bytes[1])
        guard flip < flat.count else { return }
        flat[flip] ^= 0x01
        let tampered = SealedPart(header: Array(flat.prefix(SealFormat.partHeaderSize)), chunks: [Array(flat.dropFirst(SealFormat.partHeaderSize))])
        precondition(
            (try? PartCrypto.open(tampered, dataKey: dataKey, messageID: messageID, partIndex: 2)) == nil,
            "a tampered sealed part opened")
    }

    /// Part 0 through `Envelope.decode`: a valid envelope must encode and decode to itself.
    static func sealedEnvelope(_ bytes: [UInt8]) {
        guard let envelope = try? Envelope.decode(bytes) else { return }
        guard let encoded = try? envelope.encoded() else { preconditionFailure("a decoded envelope does not encode") }
        precondition((try? Envelope.decode(encoded)) == envelope, "an envelope does not survive encoding")
    }
}
