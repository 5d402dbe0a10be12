import Foundation
import Seal
import Testing

/// The optional fields a received mail adds to the envelope: `body_html` and each
/// attachment's `content_id`. Older envelopes have neither and must read as before.
@Suite("Envelope: HTML body and Content-IDs")
struct EnvelopeHTMLBodyTests {
    let old =
        #"{"attachments":[{"index":1,"media_type":"application/pdf","name":"q3.pdf","size":12}],"body_text":"Hi","cc":[],"from":"alice@example.com","sent_at":"2025-01-02T03:04:05Z","subject":"Q3","to":[]}"#

    @Test("an envelope written before body_html decodes with neither field, and encodes to the same bytes")
    func oldEnvelope() throws {
        let envelope = try Envelope.decode(Array(old.utf8))
        #expect(envelope.bodyHTML == nil)
        #expect(envelope.attachments[0].contentID == nil)
        #expect(String(decoding: try envelope.encoded(), as: UTF8.self) == old)
    }

    @Test("body_html and content_id are written in key order and read back")
    func newFields() throws {
        var envelope = try Envelope.decode(Array(old.utf8))
        envelope.bodyHTML = "<p style=\"color:red\">Hi</p>"
        envelope.attachments[0].contentID = "logo@example.com"
        let json = String(decoding: try envelope.encoded(), as: UTF8.self)
        #expect(json.contains(#""content_id":"logo@example.com","index":1"#))
        #expect(
            json.contains(#""body_html":"<p style=\"color:red\">Hi<\/p>","body_text":"Hi""#)
                || json.contains(#""body_html":"<p style=\"color:red\">Hi</p>","body_text":"Hi""#))
        #expect(try Envelope.decode(Array(json.utf8)) == envelope)
    }
}
