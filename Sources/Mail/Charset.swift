import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A character set named in mail (a MIME `charset` parameter or an RFC 2047 word), and
/// text in it turned into a Swift string through glibc's iconv.
///
/// Why iconv and an allow-list: real mail arrives in dozens of legacy charsets, and glibc's
/// converters are the tables every Linux mail program already trusts; hand-made tables
/// would be wrong at the edges. Labels are normalised to the superset mail programs really
/// write (GB2312 → GB18030, ks_c_5601-1987 → CP949, Shift_JIS → CP932, Big5 → CP950,
/// ISO-8859-1 and US-ASCII → Windows-1252 as browsers do), and only the converters listed
/// here are ever opened, so a label in a hostile mail cannot reach an obscure glibc module.
/// Decoding never fails: an invalid sequence becomes U+FFFD and decoding goes on, and an
/// unknown label decodes as UTF-8 with replacement, marked in `Decoded.charsetIsKnown`.
public struct Charset: Sendable, Equatable, CustomStringConvertible {
    /// The iconv name of the converter (`UTF-8` is decoded by Swift itself).
    public let iconvName: String

    /// Most bytes decoded in one call; the rest is dropped (callers bound their input far lower).
    public static let maximumInput = 32 << 20

    /// UTF-8, which Swift decodes without iconv.
    public static let utf8 = Charset(iconvName: "UTF-8")

    private init(iconvName: String) {
        self.iconvName = iconvName
    }

    /// The charset a label names, or nil when it is not one this reader knows.
    ///
    /// Case, surrounding quotes and blanks, and an RFC 2231 language suffix (`*en`) do not
    /// matter.
    public init?(label: String) {
        var name = label.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") { name = String(name.dropFirst().dropLast()) }
        name = name.trimmingCharacters(in: .whitespaces).lowercased()
        if let star = name.firstIndex(of: "*") { name = String(name[..<star]) }
        guard name.utf8.count <= 40, let resolved = Self.resolve(name) else { return nil }
        self.iconvName = resolved
    }

    /// The iconv name, for logs and messages.
    public var description: String { iconvName }

    /// Text and whether its charset label was understood.
    public struct Decoded: Sendable, Equatable {
        /// The text; U+FFFD where the bytes were not valid in the charset.
        public var text: String
        /// False when the label named no charset this reader knows (decoded as UTF-8 then).
        public var charsetIsKnown: Bool
    }

    /// Decodes `bytes` in the charset `label` names (UTF-8 when nil or empty).
    public static func decode(_ bytes: some Collection<UInt8>, label: String?) -> Decoded {
        guard let label, !label.trimmingCharacters(in: .whitespaces).isEmpty else {
            return Decoded(text: Charset.utf8.decode(bytes), charsetIsKnown: true)
        }
        guard let charset = Charset(label: label) else {
            return Decoded(text: Charset.utf8.decode(bytes), charsetIsKnown: false)
        }
        return Decoded(text: charset.decode(bytes), charsetIsKnown: true)
    }

    /// The bytes as text; never fails (invalid sequences become U+FFFD).
    public func decode(_ bytes: some Collection<UInt8>) -> String {
        var input = Array(bytes.prefix(Self.maximumInput))
        switch iconvName {
        case "UTF-8":
            if input.starts(with: [0xEF, 0xBB, 0xBF]) { input.removeFirst(3) }
            return String(decoding: input, as: UTF8.self)
        case "ASCII":
            // Mail labelled US-ASCII with 8-bit bytes is UTF-8 when it is valid UTF-8, else Windows-1252.
            if !input.contains(where: { $0 >= 0x80 }) { return String(decoding: input, as: UTF8.self) }
            if let text = String(validating: input, as: UTF8.self) { return text }
            return Self.convert(input, from: "CP1252")
        default:
            return Self.convert(input, from: iconvName)
        }
    }

    /// iconv from `name` to UTF-8; one U+FFFD per invalid byte, one for a cut-off sequence at the end.
    private static func convert(_ input: [UInt8], from name: String) -> String {
        let descriptor = iconv_open("UTF-8", name)
        guard Int(bitPattern: descriptor) != -1 else {
            return String(decoding: input, as: UTF8.self)
        }
        defer { iconv_close(descriptor) }
        let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 2)
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        input.withUnsafeBufferPointer { source in
            var inPointer = UnsafeMutablePointer<CChar>(
                mutating: UnsafeRawPointer(source.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                    .assumingMemoryBound(to: CChar.self))
            var inLeft = source.count
            var flushed = false
            while true {
                var status = 0
                var failure: Int32 = 0
                buffer.withUnsafeMutableBufferPointer { target in
                    var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(target.baseAddress!)
                        .assumingMemoryBound(to: CChar.self)
                    var outLeft = target.count
                    var inOptional: UnsafeMutablePointer<CChar>? = inPointer
                    if inLeft > 0 {
                        status = iconv(descriptor, &inOptional, &inLeft, &outPointer, &outLeft)
                    } else {
                        // Let a stateful charset (ISO-2022-JP, UTF-7) write what it still holds.
                        status = iconv(descriptor, nil, nil, &outPointer, &outLeft)
                        flushed = true
                    }
                    failure = errno
                    if let moved = inOptional { inPointer = moved }
                    output.append(contentsOf: target[0..<(target.count - outLeft)])
                }
                if flushed { break }
                guard status == -1 else { continue }
                switch failure {
                case E2BIG:
                    continue
                case EILSEQ:
                    output += replacement
                    inPointer += 1
                    inLeft -= 1
                case EINVAL:
                    // A sequence cut off at the end of the input.
                    output += replacement
                    inLeft = 0
                default:
                    output += replacement
                    inLeft = 0
                }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The iconv name for a lower-case label, or nil when the label is not on the list.
    private static func resolve(_ name: String) -> String? {
        if let direct = aliases[name] { return direct }
        var compact = name.replacingOccurrences(of: "_", with: "-")
        if compact.hasPrefix("x-") { compact.removeFirst(2) }
        if let direct = aliases[compact] { return direct }
        // iso-8859-N, iso8859-N, iso_8859-N:1987, latinN
        for prefix in ["iso-8859-", "iso8859-", "iso-8859", "iso8859"] where compact.hasPrefix(prefix) {
            let rest = compact.dropFirst(prefix.count).prefix { $0.isNumber }
            guard let number = Int(rest), isoParts.contains(number) else { return nil }
            return number == 1 ? "CP1252" : "ISO-8859-\(number)"
        }
        // windows-125N, cp125N, ms-125N
        for prefix in ["windows-", "cp", "ms-", "win-", "windows"] where compact.hasPrefix(prefix) {
            guard let number = Int(compact.dropFirst(prefix.count)) else { continue }
            if (1250...1258).contains(number) { return "CP\(number)" }
            if number == 874 { return "CP874" }
            if number == 866 { return "CP866" }
            if number == 932 || number == 31 { return "CP932" }
            if number == 936 { return "GB18030" }
            if number == 949 { return "CP949" }
            if number == 950 { return "CP950" }
        }
        return nil
    }

    /// The ISO 8859 parts glibc has (there is no part 12).
    private static let isoParts: Set<Int> = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16]

    /// Labels (lower case) and the converter each one opens.
    private static let aliases: [String: String] = [
        "utf-8": "UTF-8", "utf8": "UTF-8", "unicode-1-1-utf-8": "UTF-8", "unicode-2-0-utf-8": "UTF-8",
        "us-ascii": "ASCII", "ascii": "ASCII", "ansi-x3.4-1968": "ASCII", "iso646-us": "ASCII", "646": "ASCII",
        "default": "ASCII",
        "latin1": "CP1252", "l1": "CP1252", "cp819": "CP1252", "ibm819": "CP1252",
        "latin2": "ISO-8859-2", "l2": "ISO-8859-2", "latin3": "ISO-8859-3", "l3": "ISO-8859-3",
        "latin4": "ISO-8859-4", "l4": "ISO-8859-4", "cyrillic": "ISO-8859-5", "arabic": "ISO-8859-6",
        "greek": "ISO-8859-7", "hebrew": "ISO-8859-8", "latin5": "ISO-8859-9", "l5": "ISO-8859-9",
        "latin6": "ISO-8859-10", "l6": "ISO-8859-10", "latin7": "ISO-8859-13", "latin8": "ISO-8859-14",
        "latin9": "ISO-8859-15", "latin-9": "ISO-8859-15", "latin10": "ISO-8859-16",
        "gb2312": "GB18030", "gbk": "GB18030", "gb18030": "GB18030", "euc-cn": "GB18030", "cn-gb": "GB18030",
        "csgb2312": "GB18030", "gb-2312": "GB18030", "chinese": "GB18030", "gb2312-80": "GB18030",
        "big5": "CP950", "big-5": "CP950", "cn-big5": "CP950", "csbig5": "CP950", "big5-hkscs": "BIG5-HKSCS",
        "shift-jis": "CP932", "shift_jis": "CP932", "sjis": "CP932", "ms-kanji": "CP932", "csshiftjis": "CP932",
        "windows-31j": "CP932", "ms932": "CP932",
        "iso-2022-jp": "ISO-2022-JP-2", "csiso2022jp": "ISO-2022-JP-2", "iso-2022-jp-2": "ISO-2022-JP-2",
        "iso-2022-jp-3": "ISO-2022-JP-3",
        "euc-jp": "EUC-JP-MS", "cseucpkdfmtjapanese": "EUC-JP-MS",
        "ks-c-5601-1987": "CP949", "ks-c-5601": "CP949", "ksc5601": "CP949", "ksc-5601": "CP949",
        "euc-kr": "CP949", "cseuckr": "CP949", "korean": "CP949", "csksc56011987": "CP949", "uhc": "CP949",
        "iso-ir-149": "CP949", "iso-2022-kr": "ISO-2022-KR",
        "koi8-r": "KOI8-R", "koi8r": "KOI8-R", "cskoi8r": "KOI8-R", "koi": "KOI8-R", "koi8": "KOI8-R",
        "koi8-u": "KOI8-U", "koi8-ru": "KOI8-U",
        "utf-7": "UTF-7", "utf7": "UTF-7", "unicode-1-1-utf-7": "UTF-7", "csunicode11utf7": "UTF-7",
        "unicode20utf7": "UTF-7",
        "utf-16": "UTF-16", "utf-16le": "UTF-16LE", "utf-16be": "UTF-16BE", "utf-32": "UTF-32",
        "tis-620": "CP874", "iso-8859-11": "CP874",
        "ibm866": "CP866", "866": "CP866",
        "macintosh": "MACINTOSH", "mac": "MACINTOSH", "csmacintosh": "MACINTOSH",
        "euc-tw": "EUC-TW", "viscii": "VISCII",
    ]
}
