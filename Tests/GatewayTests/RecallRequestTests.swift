import Foundation
import RetractCore
import Testing

@testable import Gateway

@Suite("Recognising Outlook's recall request")
struct RecallRequestTests {
    static let prefixes = ["Recall:"]

    /// What the gateway does: the headers read once, then the recogniser (which opens the
    /// file only when it must).
    static func recognise(_ bytes: [UInt8], prefixes: [String]) -> RecallRequest? {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("recall-\(UUID().uuidString).eml")
        defer { try? FileManager.default.removeItem(at: file) }
        guard (try? Data(bytes).write(to: file)) != nil, let headers = try? IncomingMailHeaders.read(file: file)
        else { return nil }
        return RecallRequest.recognise(headers: headers, file: file, prefixes: prefixes)
    }

    @Test("both Exchange forms are recognised on their headers, with the original subject from Thread-Topic")
    func exchangeForms() {
        let web = Self.recognise(
            RecallFixtures.messageRecallEmail(subject: "Q3 figures", to: ["bob@partner.test"]), prefixes: Self.prefixes)
        #expect(web == RecallRequest(form: .messageRecallEmail, originalSubject: "Q3 figures"))
        let classic = Self.recognise(
            RecallFixtures.legacyOutlookRecall(subject: "Q3 figures", to: ["bob@partner.test"]),
            prefixes: Self.prefixes)
        #expect(classic == RecallRequest(form: .legacyOutlookRecall, originalSubject: "Q3 figures"))
    }

    @Test("the TNEF form is recognised by its message class IPM.Outlook.Recall, under a recall prefix")
    func tnefForm() {
        let request = Self.recognise(
            RecallFixtures.tnefRecall(subject: "Q3 figures", to: ["bob@partner.test"]), prefixes: Self.prefixes)
        #expect(request == RecallRequest(form: .tnef, originalSubject: "Q3 figures"))
        #expect(TNEFMessageClass.read(RecallFixtures.tnefStream(messageClass: "IPM.Note")) == "IPM.Note")
    }

    @Test("a localised prefix counts only when configured, and only with a Thread-Topic or the recall sentence")
    func subjectPrefix() {
        let french = Array(
            "From: alice@corp.test\r\nTo: bob@partner.test\r\nSubject: Rappel : Chiffres\r\nThread-Topic: Chiffres\r\n\r\nAlice souhaite rappeler le message.\r\n"
                .utf8)
        #expect(Self.recognise(french, prefixes: Self.prefixes) == nil)
        #expect(
            Self.recognise(french, prefixes: ["Recall:", "Rappel :"])
                == RecallRequest(form: .subjectPrefix, originalSubject: "Chiffres"))
        // An ordinary mail whose subject happens to start with the prefix is no recall
        let ordinary = Array(
            "From: alice@corp.test\r\nTo: bob@partner.test\r\nSubject: Recall: the meeting notes\r\n\r\nHere they are.\r\n"
                .utf8)
        #expect(Self.recognise(ordinary, prefixes: Self.prefixes) == nil)
        // Without the headers, the English recall sentence is enough
        let sentence = Array(
            "From: alice@corp.test\r\nTo: bob@partner.test\r\nSubject: Recall: Q3\r\n\r\nAlice would like to recall the message, \"Q3\".\r\n"
                .utf8)
        #expect(
            Self.recognise(sentence, prefixes: Self.prefixes)
                == RecallRequest(form: .subjectPrefix, originalSubject: "Q3"))
    }

    @Test("ordinary mail, large mail and damaged TNEF are no recall, and nothing traps")
    func notRecalls() {
        let plain = Array("From: alice@corp.test\r\nTo: bob@partner.test\r\nSubject: Lunch\r\n\r\nhi\r\n".utf8)
        #expect(Self.recognise(plain, prefixes: Self.prefixes) == nil)
        // A large mail is not read for the recall sentence
        var large = Array("From: alice@corp.test\r\nSubject: Recall: Q3\r\n\r\nAlice would like to recall the message.\r\n".utf8)
        large += [UInt8](repeating: 0x41, count: RecallRequest.maximumSize)
        #expect(Self.recognise(large, prefixes: Self.prefixes) == nil)

        // A TNEF stream whose lengths lie, cut short at every byte, or looping attributes
        let good = RecallFixtures.tnefStream(messageClass: "IPM.Outlook.Recall")
        for cut in 0..<good.count { #expect(TNEFMessageClass.read(Array(good.prefix(cut))) == nil) }
        var lying = good
        lying[7 + 4 ... 7 + 7] = [0xFF, 0xFF, 0xFF, 0x7F][...]
        #expect(TNEFMessageClass.read(lying) == nil)
        let many = Array(good.prefix(6)) + Array(repeating: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], count: 10_000).joined()
        #expect(TNEFMessageClass.read(many) == nil)
        #expect(TNEFMessageClass.read([0x78, 0x9F, 0x3E, 0x22, 0, 0, 1, 8, 0x80, 7, 0, 5, 0, 0, 0, 0xFF, 0xFE, 0, 0, 0, 0, 0]) == nil)
    }
}
