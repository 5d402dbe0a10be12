/// What may stand in one line of a mail header, checked on Unicode scalars.
///
/// On `Character`s the pair CR LF is one grapheme that equals neither `"\r"` nor `"\n"`, so a
/// check over characters let `"a\r\nBcc: x"` through; every header check goes through here.
public enum HeaderText {
    /// Whether `text` holds CR, LF or NUL anywhere (as scalars).
    public static func containsLineBreak(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0 == "\r" || $0 == "\n" || $0 == "\0" }
    }

    /// `text` made safe for one header line: every control character (line breaks, NUL,
    /// tabs, C1 controls) becomes a space, runs of spaces shrink to one, and an empty result
    /// becomes `fallback`.
    ///
    /// For text the vault already holds (a stored subject): a notice about it must still go
    /// out whatever it contains.
    public static func oneLine(_ text: String, fallback: String) -> String {
        var scalars = String.UnicodeScalarView()
        var lastWasSpace = true
        for scalar in text.unicodeScalars {
            let isControl = scalar.properties.generalCategory == .control
                || scalar == "\u{2028}" || scalar == "\u{2029}"
            if isControl || scalar == " " {
                if !lastWasSpace { scalars.append(" ") }
                lastWasSpace = true
            } else {
                scalars.append(scalar)
                lastWasSpace = false
            }
        }
        var result = String(scalars)
        if result.hasSuffix(" ") { result.removeLast() }
        return result.isEmpty ? fallback : result
    }
}
