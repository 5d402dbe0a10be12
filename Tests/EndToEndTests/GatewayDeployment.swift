import Foundation
import RetractTestSupport
import Testing

/// The deployment of docs/gateway.md, started for one test: an aiosmtpd sink (every other
/// domain and the colleagues' mailboxes), a private Postfix whose after-queue content filter
/// is `retract serve --smtp-listen`, and Retract delivering back through Postfix's return smtpd.
struct GatewayDeployment {
    let sink: SMTPSink
    let postfix: PostfixInstance
    let gateway: RetractBinary
    let server: Process
    /// The HTTP port of `retract serve` (the reader, the web app).
    let httpPort: Int
    /// Where the organisation's mail clients submit: Postfix.
    var submissionPort: Int { postfix.port }
    /// `http://127.0.0.1:<httpPort>`.
    var base: String { "http://127.0.0.1:\(httpPort)" }

    /// Starts it all under `root`, with `tests`' environment for Retract and `extra` on top.
    static func start(in root: URL, tests: GatewayPostfixEndToEndTests, _ extra: [String: String] = [:]) async throws
        -> GatewayDeployment
    {
        let sink = try await SMTPSink(in: root)
        let filterPort = try PostfixInstance.freePort()
        let postfix = try PostfixInstance(relayPort: sink.port, contentFilter: filterPort, in: root)
        let gateway = tests.retract(behind: postfix, extra)
        let initialised = try gateway.run(["init"])
        guard initialised.status == 0 else {
            postfix.stop()
            sink.stop()
            throw DeploymentError(text: "retract init failed: \(initialised.stderr)")
        }
        let (server, httpPort) = try gateway.startServer(extra: ["--smtp-listen", "127.0.0.1:\(filterPort)"])
        #expect(try PostfixInstance.waitForPortOpen(filterPort))
        return GatewayDeployment(sink: sink, postfix: postfix, gateway: gateway, server: server, httpPort: httpPort)
    }

    /// Stops Retract, Postfix and the sink.
    func stop() {
        server.terminate()
        server.waitUntilExit()
        postfix.stop()
        sink.stop()
    }

    struct DeploymentError: Error, CustomStringConvertible {
        var text: String
        var description: String { text }
    }
}
