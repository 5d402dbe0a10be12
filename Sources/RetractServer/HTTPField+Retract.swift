import HTTPTypes

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let crossOriginOpenerPolicy = Self("Cross-Origin-Opener-Policy")!
    static let permissionsPolicy = Self("Permissions-Policy")!
    static let strictTransportSecurity = Self("Strict-Transport-Security")!
    static let secFetchSite = Self("Sec-Fetch-Site")!
    /// The de facto list of the addresses a request was forwarded for (ClientAddressResolver).
    static let xForwardedFor = Self("X-Forwarded-For")!
    /// RFC 7239's forwarding header (ClientAddressResolver).
    static let forwarded = Self("Forwarded")!
}
