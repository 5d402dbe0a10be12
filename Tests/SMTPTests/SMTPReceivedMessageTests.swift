import SMTP
import Testing

@Suite("SMTP hand-over types")
struct SMTPReceivedMessageTests {
    @Test("a client description keeps what the session learnt")
    func clientInfo() {
        let client = SMTPClientInfo(address: "127.0.0.1", heloName: "mx.corp.test", forwarded: ["ADDR": "10.0.0.5"])
        #expect(client.forwarded["ADDR"] == "10.0.0.5")
        #expect(client.authenticatedAs == nil)
    }
}
