import Foundation
import Logging
import Synchronization
import Testing

@testable import RetractCore

@Suite("JSON log lines (RETRACT_LOG_FORMAT=json)")
struct JSONLogHandlerTests {
    /// The lines a logger wrote, in order.
    final class Lines: Sendable {
        let all = Mutex<[String]>([])
        func append(_ line: String) { all.withLock { $0.append(line) } }
    }

    func logger(_ lines: Lines) -> Logger {
        var logger = Logger(label: "retract") { label in JSONLogHandler(label: label) { lines.append($0) } }
        logger.logLevel = .debug
        return logger
    }

    func object(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test("each event is one line of JSON with time, level, message, label and every metadata field, the request id as request_id")
    func oneObjectPerLine() throws {
        let lines = Lines()
        var logger = logger(lines)
        logger[metadataKey: "hb.request.id"] = "4f2a"
        logger.info(
            "message sealed",
            metadata: ["message": "0011", "recipients": .stringConvertible(3), "gateway": ["state": "sealed"]])
        let written = lines.all.withLock { $0 }
        #expect(written.count == 1)
        #expect(written[0].hasSuffix("}\n"))
        #expect(written[0].dropLast().contains("\n") == false)
        let fields = try object(written[0])
        #expect(fields["level"] as? String == "info")
        #expect(fields["message"] as? String == "message sealed")
        #expect(fields["label"] as? String == "retract")
        #expect(fields["request_id"] as? String == "4f2a")
        #expect(fields["recipients"] as? String == "3")
        #expect(fields["gateway.state"] as? String == "sealed")
        let time = try #require(fields["time"] as? String)
        #expect(time.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "time is \(time)")
    }

    @Test("a hostile value (newlines, quotes, control characters, U+2028) stays inside its field and cannot forge another")
    func hostileValuesAreEscaped() throws {
        let lines = Lines()
        let hostile = "x\"}\n{\"level\":\"critical\",\"message\":\"forged\u{0}\u{1b}\u{2028}\\"
        logger(lines).warning("refused", metadata: ["subject": .string(hostile)])
        let written = lines.all.withLock { $0 }
        #expect(written.count == 1)
        #expect(written[0].filter { $0 == "\n" }.count == 1)
        let fields = try object(written[0])
        #expect(fields["subject"] as? String == hostile)
        #expect(fields["level"] as? String == "warning")
        #expect(fields["message"] as? String == "refused")
    }

    @Test("a metadata key named like a standard field does not replace it; a message id becomes message_id")
    func standardFieldsWin() throws {
        let lines = Lines()
        logger(lines).error("boom", metadata: ["level": "debug", "time": "then", "message": "0011"])
        let fields = try object(lines.all.withLock { $0 }[0])
        #expect(fields["level"] as? String == "error")
        #expect(fields["time"] as? String != "then")
        #expect(fields["message"] as? String == "boom")
        #expect(fields["message_id"] as? String == "0011")
    }

    @Test("below the logger's level nothing is written")
    func levelFilters() {
        let lines = Lines()
        var quiet = logger(lines)
        quiet.logLevel = .notice
        quiet.info("request")
        quiet.notice("started")
        #expect(lines.all.withLock { $0 }.count == 1)
    }
}
