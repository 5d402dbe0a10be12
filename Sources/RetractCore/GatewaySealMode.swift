/// Which recipients of a message the SMTP gateway seals (`RETRACT_SEAL`).
public enum GatewaySealMode: String, Sendable, CaseIterable, Codable {
    /// Recipients outside the internal domains get a link; those inside get the original.
    case external
    /// Every recipient gets a link.
    case all
    /// Only a message whose subject carries the seal tag is sealed, for every recipient.
    case tagged

    /// The mode named by `text` (case-insensitive, surrounding blanks ignored); nil for
    /// anything else.
    public init?(parsing text: String) {
        self.init(rawValue: text.trimmingCharacters(in: .whitespaces).lowercased())
    }
}
