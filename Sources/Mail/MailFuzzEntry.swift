import NIOCore

/// The Mail module's parsers as the fuzz targets (Fuzz/) and their corpus replay
/// (Tests/FuzzReplayTests) call them: bytes in, nothing out, never a trap.
///
/// `package` so that only RetractFuzzTargets, in this package, reaches the internal parsers
/// (`EncodedWord`, `QuotedPrintable`, `SMTPReplyDecoder`).
package enum MailFuzzEntry {
    /// A whole message through `ParsedMail` and the accessors a caller uses on it.
    package static func parsedMail(_ bytes: [UInt8]) {
        _ = ParsedMail.headerText(bytes)
        guard let mail = try? ParsedMail(parsing: bytes) else { return }
        for name in ["From", "To", "Cc", "Reply-To", "Sender"] { _ = try? mail.addresses(name) }
        for name in ["Subject", "Content-Type", "Message-ID", "Date"] {
            _ = mail.header(name)
            _ = mail.headers(name)
        }
        _ = mail.textBody
    }

    /// One header value through `HeaderParameters` (RFC 2231 continuations and charsets
    /// included) and `EncodedWord` (RFC 2047).
    package static func headerFields(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let parameters = HeaderParameters(text)
        for key in ["filename", "name", "charset", "boundary", "format"] {
            _ = parameters.extendedValue(key)
        }
        _ = HeaderParameters.decodeExtended(text)
        _ = EncodedWord.decode(text)
    }

    /// A body through the quoted-printable decoder and the format=flowed unflowing.
    package static func bodyDecoding(_ bytes: [UInt8]) {
        _ = QuotedPrintable.decode(bytes: bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        _ = QuotedPrintable.decode(text[...])
        _ = FlowedText.unflow(text, deleteSpace: false)
        _ = FlowedText.unflow(text, deleteSpace: true)
    }

    /// Bytes through `Charset` (glibc iconv): the first line is the label, the rest the text.
    package static func charset(_ bytes: [UInt8]) {
        let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
        let label = String(decoding: bytes[..<newline], as: UTF8.self)
        let body = newline < bytes.endIndex ? bytes[(newline + 1)...] : []
        _ = Charset.decode(body, label: label)
        _ = Charset.decode(body, label: nil)
        _ = Charset(label: label)?.decode(body)
    }

    /// HTML through the tokenizer, the sanitizer (with and without a style nonce) and the
    /// plain-text rendering.
    package static func html(_ bytes: [UInt8]) {
        _ = HTMLTokenizer.tokens(of: bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        _ = HTMLSanitizer(styleNonce: "fuzz", inlineImages: ["a@b": "/inline/1"]).sanitize(text)
        _ = HTMLSanitizer(styleNonce: nil).sanitize(text)
        _ = HTMLSanitizer.plainText(text)
    }

    /// A style sheet through `CSSSanitizer`.
    package static func css(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = CSSSanitizer.sanitize(text) { $0 == "a@b" ? "/inline/1" : nil }
    }

    /// A server's bytes through the SMTP client's `SMTPReplyDecoder`, in pieces whose size
    /// the first byte picks; a decoding error ends the conversation, as in the client.
    package static func smtpReplies(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let piece = Int(first & 0x3F) + 1
        var decoder = SMTPReplyDecoder(maximumLineLength: first & 0x40 == 0 ? 2048 : 32, maximumLines: 8)
        var buffer = ByteBuffer()
        var offset = 1
        while offset < bytes.count {
            let end = min(bytes.count, offset + piece)
            buffer.writeBytes(bytes[offset..<end])
            offset = end
            do {
                while try decoder.decodeReply(&buffer) != nil {}
            } catch {
                return
            }
            buffer.discardReadBytes()
        }
    }
}
