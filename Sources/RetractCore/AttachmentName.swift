import Foundation

/// An attachment's file name as Retract shows, stores and offers it for download.
///
/// A name is the sender's text and reaches the recipient's screen and file system: a bidi
/// override (U+202E) turns `ü中文\u{202E}gnp.exe` into something that reads "…exe.png",
/// a zero-width character hides a difference. Every format character (general category Cf)
/// and every control character is removed, and so are path separators and leading dots.
public enum AttachmentName {
    /// The longest name kept, in UTF-8 bytes; longer names lose their start.
    public static let maximumBytes = 200

    /// `name` without format or control characters, folders or leading dots, at most
    /// `maximumBytes` long; `attachment` when nothing is left.
    public static func cleaned(_ name: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var scalars = String.UnicodeScalarView()
        for scalar in last.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .format, .control, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned: continue
            default: scalars.append(scalar)
            }
        }
        var cleaned = String(scalars).trimmingCharacters(in: .whitespaces)
        while cleaned.hasPrefix(".") { cleaned.removeFirst() }
        while cleaned.utf8.count > maximumBytes { cleaned.removeFirst() }
        return cleaned.isEmpty ? "attachment" : cleaned
    }
}
