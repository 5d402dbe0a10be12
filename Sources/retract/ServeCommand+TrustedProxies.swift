import RetractCore
import RetractServer

extension ServeCommand {
    /// Who the client of a request is (docs/operations.md, "Behind a load balancer"):
    /// `--trusted-proxies` or `RETRACT_TRUSTED_PROXIES` (CIDRs; none by default, the peer is
    /// the client) and `--forwarded-header` or `RETRACT_FORWARDED_HEADER` (`x-forwarded-for`,
    /// the default, or `forwarded`); a value that does not parse is a one-line error.
    static func clientAddresses(trustedProxies: String?, forwardedHeader: String?) throws -> ClientAddressResolver {
        let option = trustedProxies == nil ? "RETRACT_TRUSTED_PROXIES" : "--trusted-proxies"
        let headerOption = forwardedHeader == nil ? "RETRACT_FORWARDED_HEADER" : "--forwarded-header"
        let header = forwardedHeader ?? Environment.value("RETRACT_FORWARDED_HEADER")
        guard let proxies = trustedProxies ?? Environment.value("RETRACT_TRUSTED_PROXIES") else {
            // Checked all the same: a mistyped header name must not wait for the day proxies are set.
            if let header { _ = try ClientAddressResolver.forwardedHeader(header, option: headerOption) }
            return ClientAddressResolver()
        }
        return try ClientAddressResolver(
            parsingProxies: proxies, header: header, option: option, headerOption: headerOption)
    }
}
