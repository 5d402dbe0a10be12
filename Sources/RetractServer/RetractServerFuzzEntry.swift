import Foundation

/// The web server's header and body parsers as the fuzz targets (Fuzz/) and their corpus
/// replay (Tests/FuzzReplayTests) call them: bytes in, nothing out, never a trap.
///
/// `package` so that only RetractFuzzTargets, in this package, reaches the internal
/// `PageLocale`, `ForwardedElements`, `MultipartFormReader.boundary` and `JSONValue`.
package enum RetractServerFuzzEntry {
    /// An `Accept-Language` value through `PageLocale.negotiate`.
    package static func acceptLanguage(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = PageLocale.negotiate(acceptLanguage: text)
        _ = PageLocale.negotiate(acceptLanguage: text, fallback: "zh-Hans")
    }

    /// A `Forwarded` line through `ForwardedElements.parse`, and a `Content-Type` value
    /// through the multipart boundary reading.
    package static func requestHeaders(_ bytes: [UInt8]) {
        _ = ForwardedElements.parse(bytes)
        _ = MultipartFormReader.boundary(contentType: String(decoding: bytes, as: UTF8.self))
    }

    /// An API request body through `JSONValue.parse` (a throw is the 400 it becomes).
    package static func apiJSON(_ bytes: [UInt8]) {
        _ = try? JSONValue.parse(Data(bytes))
    }
}
