/// What one turn of scheduled key maintenance (`RETRACT_KEY_ROTATION`) did.
public struct KeyMaintenance: Sendable, Equatable {
    /// The rotation it ran, if the active key was old enough or a rotation was unfinished.
    public var rotation: KeyRotation?
    /// The key ids it retired (destroyed), oldest first.
    public var retired: [String] = []

    /// A turn that did nothing yet.
    public init(rotation: KeyRotation? = nil, retired: [String] = []) {
        self.rotation = rotation
        self.retired = retired
    }
}
