import Foundation

/// Settings of the sender web app that an operator may change.
public struct WebAppOptions: Sendable {
    /// Largest compose request accepted, attachments included; a larger one is refused with
    /// 413 and nothing is kept. nil takes the service's `RetractConfiguration.maxUploadSize`
    /// (`RETRACT_MAX_UPLOAD`), the limit the API applies too.
    public var maxUploadBytes: Int?
    /// Where uploaded attachments wait between the check and the confirmed send; nil puts
    /// them in `<data-dir>/uploads`, beside the API's.
    public var uploadDirectory: URL?
    /// How long an upload waits for its confirmation before it is deleted.
    public var uploadLifetime: TimeInterval

    /// Options with the given values; the defaults suit one small office.
    public init(maxUploadBytes: Int? = nil, uploadDirectory: URL? = nil, uploadLifetime: TimeInterval = 3600) {
        self.maxUploadBytes = maxUploadBytes
        self.uploadDirectory = uploadDirectory
        self.uploadLifetime = uploadLifetime
    }
}
