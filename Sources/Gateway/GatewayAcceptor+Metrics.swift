import RetractCore
import RetractMetrics

extension GatewayAcceptor {
    /// Counts a committed message as sealed when any recipient got a link, and as passed
    /// through when any got the mail as it came (one message can be both).
    func countCommitted(_ receipt: IncomingMailReceipt) {
        if !receipt.sealed.isEmpty { service.metrics.count(.gatewayMessages, ["outcome": "sealed"]) }
        if !receipt.passedThrough.isEmpty { service.metrics.count(.gatewayMessages, ["outcome": "passed_through"]) }
    }
}
