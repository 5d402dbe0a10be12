import Foundation
import Testing

@testable import Mail

/// Text in every charset the issue names, as real bytes (generated with python3's codecs
/// and checked against iconv(1) when this file was written), decoded through `Charset`.
@Suite("Charsets through glibc iconv")
struct CharsetTests {
    struct Sample: CustomTestStringConvertible, Sendable {
        let label: String
        let bytes: [UInt8]
        let text: String
        init(_ label: String, _ bytes: [UInt8], _ text: String) {
            self.label = label
            self.bytes = bytes
            self.text = text
        }
        var testDescription: String { label }
    }

    static let samples: [Sample] = [
        Sample(
            "iso-8859-1",
            [
                0x47, 0x72, 0xFC, 0xDF, 0x65, 0x20, 0x61, 0x75, 0x73, 0x20, 0x4B, 0xF6, 0x6C, 0x6E, 0x2C, 0x20, 0x63,
                0x61, 0x66, 0xE9, 0x2C, 0x20, 0xF1, 0x2C, 0x20, 0xFF,
            ], "Gr\u{FC}\u{DF}e aus K\u{F6}ln, caf\u{E9}, \u{F1}, \u{FF}"),
        Sample(
            "iso-8859-2",
            [
                0x5A, 0x61, 0xBF, 0xF3, 0xB3, 0xE6, 0x20, 0x67, 0xEA, 0xB6, 0x6C, 0xB1, 0x20, 0x6A, 0x61, 0xBC, 0xF1,
                0x2C, 0x20, 0x50, 0xF8, 0xED, 0x6C, 0x69, 0xB9, 0x20, 0xBE, 0x6C, 0x75, 0xBB, 0x6F, 0x75, 0xE8, 0x6B,
                0xFD,
            ],
            "Za\u{17C}\u{F3}\u{142}\u{107} g\u{119}\u{15B}l\u{105} ja\u{17A}\u{144}, P\u{159}\u{ED}li\u{161} \u{17E}lu\u{165}ou\u{10D}k\u{FD}"
        ),
        Sample(
            "iso-8859-3", [0xA1, 0x20, 0xB6, 0x20, 0xD8, 0x20, 0xF8, 0x20, 0xC5, 0x20, 0xE5, 0x20, 0xFD, 0x20, 0xDE],
            "\u{126} \u{125} \u{11C} \u{11D} \u{10A} \u{10B} \u{16D} \u{15C}"),
        Sample(
            "iso-8859-4",
            [
                0xC0, 0x20, 0xE0, 0x20, 0xAA, 0x20, 0xBA, 0x20, 0xAB, 0x20, 0xBB, 0x20, 0xD3, 0x20, 0xF3, 0x20, 0xA6,
                0x20, 0xB6, 0x20, 0xD1, 0x20, 0xF1,
            ], "\u{100} \u{101} \u{112} \u{113} \u{122} \u{123} \u{136} \u{137} \u{13B} \u{13C} \u{145} \u{146}"),
        Sample(
            "iso-8859-5",
            [
                0xC1, 0xEA, 0xD5, 0xE8, 0xEC, 0x20, 0xD6, 0xD5, 0x20, 0xD5, 0xE9, 0xF1, 0x20, 0xED, 0xE2, 0xD8, 0xE5,
                0x20, 0xDC, 0xEF, 0xD3, 0xDA, 0xD8, 0xE5,
            ],
            "\u{421}\u{44A}\u{435}\u{448}\u{44C} \u{436}\u{435} \u{435}\u{449}\u{451} \u{44D}\u{442}\u{438}\u{445} \u{43C}\u{44F}\u{433}\u{43A}\u{438}\u{445}"
        ),
        Sample(
            "iso-8859-6", [0xE5, 0xD1, 0xCD, 0xC8, 0xC7, 0x20, 0xC8, 0xC7, 0xE4, 0xD9, 0xC7, 0xE4, 0xE5],
            "\u{645}\u{631}\u{62D}\u{628}\u{627} \u{628}\u{627}\u{644}\u{639}\u{627}\u{644}\u{645}"),
        Sample(
            "iso-8859-7", [0xCA, 0xE1, 0xEB, 0xE7, 0xEC, 0xDD, 0xF1, 0xE1, 0x20, 0xEA, 0xFC, 0xF3, 0xEC, 0xE5],
            "\u{39A}\u{3B1}\u{3BB}\u{3B7}\u{3BC}\u{3AD}\u{3C1}\u{3B1} \u{3BA}\u{3CC}\u{3C3}\u{3BC}\u{3B5}"),
        Sample(
            "iso-8859-8", [0xF9, 0xEC, 0xE5, 0xED, 0x20, 0xF2, 0xE5, 0xEC, 0xED],
            "\u{5E9}\u{5DC}\u{5D5}\u{5DD} \u{5E2}\u{5D5}\u{5DC}\u{5DD}"),
        Sample(
            "iso-8859-9",
            [
                0x47, 0xFC, 0x6E, 0x61, 0x79, 0x64, 0xFD, 0x6E, 0x2C, 0x20, 0xDD, 0x73, 0x74, 0x61, 0x6E, 0x62, 0x75,
                0x6C, 0x20, 0xFE, 0x65, 0x68, 0x72, 0x69,
            ], "G\u{FC}nayd\u{131}n, \u{130}stanbul \u{15F}ehri"),
        Sample(
            "iso-8859-10",
            [
                0xAF, 0x20, 0xBF, 0x20, 0xAE, 0x20, 0xBE, 0x20, 0xD9, 0x20, 0xF9, 0x20, 0xAB, 0x20, 0xBB, 0x20, 0xA9,
                0x20, 0xB9,
            ], "\u{14A} \u{14B} \u{16A} \u{16B} \u{172} \u{173} \u{166} \u{167} \u{110} \u{111}"),
        Sample(
            "iso-8859-11", [0xCA, 0xC7, 0xD1, 0xCA, 0xB4, 0xD5, 0xA4, 0xC3, 0xD1, 0xBA],
            "\u{E2A}\u{E27}\u{E31}\u{E2A}\u{E14}\u{E35}\u{E04}\u{E23}\u{E31}\u{E1A}"),
        Sample(
            "iso-8859-13",
            [
                0x4C, 0x61, 0x62, 0x61, 0x73, 0x20, 0x72, 0x79, 0x74, 0x61, 0x73, 0x2C, 0x20, 0xE0, 0xE8, 0xE6, 0xEB,
                0xE1, 0xF0, 0xF8, 0xFB, 0xFE,
            ], "Labas rytas, \u{105}\u{10D}\u{119}\u{117}\u{12F}\u{161}\u{173}\u{16B}\u{17E}"),
        Sample(
            "iso-8859-14",
            [
                0xA1, 0x20, 0xA2, 0x20, 0xA4, 0x20, 0xA5, 0x20, 0xA6, 0x20, 0xAB, 0x20, 0xA8, 0x20, 0xB8, 0x20, 0xD0,
                0x20, 0xF0,
            ], "\u{1E02} \u{1E03} \u{10A} \u{10B} \u{1E0A} \u{1E0B} \u{1E80} \u{1E81} \u{174} \u{175}"),
        Sample(
            "iso-8859-15",
            [
                0x50, 0x72, 0x69, 0x78, 0x3A, 0x20, 0x31, 0x30, 0x20, 0xA4, 0x20, 0x2D, 0x20, 0xBC, 0x75, 0x76, 0x72,
                0x65, 0x2C, 0x20, 0xA6, 0xE1, 0x72, 0x6B, 0x61,
            ], "Prix: 10 \u{20AC} - \u{152}uvre, \u{160}\u{E1}rka"),
        Sample(
            "iso-8859-16",
            [0x42, 0x75, 0x6E, 0xE3, 0x20, 0x7A, 0x69, 0x75, 0x61, 0x2C, 0x20, 0xAA, 0xFE, 0xE3, 0xEE, 0xE2],
            "Bun\u{103} ziua, \u{218}\u{21B}\u{103}\u{EE}\u{E2}"),
        Sample(
            "windows-1250",
            [
                0x5A, 0x61, 0xBF, 0xF3, 0xB3, 0xE6, 0x20, 0x67, 0xEA, 0x9C, 0x6C, 0xB9, 0x20, 0x6A, 0x61, 0x9F, 0xF1,
                0x20, 0x84, 0x63, 0x79, 0x74, 0x61, 0x74, 0x94,
            ], "Za\u{17C}\u{F3}\u{142}\u{107} g\u{119}\u{15B}l\u{105} ja\u{17A}\u{144} \u{201E}cytat\u{201D}"),
        Sample(
            "windows-1251",
            [
                0xD1, 0xFA, 0xE5, 0xF8, 0xFC, 0x20, 0xE6, 0xE5, 0x20, 0xE5, 0xF9, 0xB8, 0x20, 0xFD, 0xF2, 0xE8, 0xF5,
                0x20, 0xAB, 0xEC, 0xFF, 0xE3, 0xEA, 0xE8, 0xF5, 0xBB, 0x20, 0xE1, 0xF3, 0xEB, 0xEE, 0xEA,
            ],
            "\u{421}\u{44A}\u{435}\u{448}\u{44C} \u{436}\u{435} \u{435}\u{449}\u{451} \u{44D}\u{442}\u{438}\u{445} \u{AB}\u{43C}\u{44F}\u{433}\u{43A}\u{438}\u{445}\u{BB} \u{431}\u{443}\u{43B}\u{43E}\u{43A}"
        ),
        Sample(
            "windows-1252",
            [
                0x93, 0x53, 0x6D, 0x61, 0x72, 0x74, 0x20, 0x71, 0x75, 0x6F, 0x74, 0x65, 0x73, 0x94, 0x20, 0x96, 0x20,
                0x61, 0x6E, 0x64, 0x20, 0x80, 0x20, 0x35, 0x20, 0x85, 0x20, 0x99,
            ], "\u{201C}Smart quotes\u{201D} \u{2013} and \u{20AC} 5 \u{2026} \u{2122}"),
        Sample(
            "windows-1253",
            [
                0xCA, 0xE1, 0xEB, 0xE7, 0xEC, 0xDD, 0xF1, 0xE1, 0x20, 0xEA, 0xFC, 0xF3, 0xEC, 0xE5, 0x20, 0x91, 0xA2,
                0x92,
            ],
            "\u{39A}\u{3B1}\u{3BB}\u{3B7}\u{3BC}\u{3AD}\u{3C1}\u{3B1} \u{3BA}\u{3CC}\u{3C3}\u{3BC}\u{3B5} \u{2018}\u{386}\u{2019}"
        ),
        Sample(
            "windows-1254",
            [
                0x47, 0xFC, 0x6E, 0x61, 0x79, 0x64, 0xFD, 0x6E, 0x20, 0xDD, 0x73, 0x74, 0x61, 0x6E, 0x62, 0x75, 0x6C,
                0x20, 0x93, 0xFE, 0x65, 0x68, 0x72, 0x69, 0x94,
            ], "G\u{FC}nayd\u{131}n \u{130}stanbul \u{201C}\u{15F}ehri\u{201D}"),
        Sample(
            "windows-1255", [0xF9, 0xEC, 0xE5, 0xED, 0x20, 0xF2, 0xE5, 0xEC, 0xED, 0x20, 0xA4],
            "\u{5E9}\u{5DC}\u{5D5}\u{5DD} \u{5E2}\u{5D5}\u{5DC}\u{5DD} \u{20AA}"),
        Sample(
            "windows-1256",
            [
                0xE3, 0xD1, 0xCD, 0xC8, 0xC7, 0x20, 0xC8, 0xC7, 0xE1, 0xDA, 0xC7, 0xE1, 0xE3, 0xA1, 0x20, 0xE4, 0xDA,
                0xE3,
            ],
            "\u{645}\u{631}\u{62D}\u{628}\u{627} \u{628}\u{627}\u{644}\u{639}\u{627}\u{644}\u{645}\u{60C} \u{646}\u{639}\u{645}"
        ),
        Sample(
            "windows-1257",
            [
                0x4C, 0x61, 0x62, 0x61, 0x73, 0x20, 0x72, 0x79, 0x74, 0x61, 0x73, 0x2C, 0x20, 0xE0, 0xE8, 0xE6, 0xEB,
                0xE1, 0xF0, 0xF8, 0xFB, 0xFE, 0x20, 0x84, 0x78, 0x93,
            ], "Labas rytas, \u{105}\u{10D}\u{119}\u{117}\u{12F}\u{161}\u{173}\u{16B}\u{17E} \u{201E}x\u{201C}"),
        Sample(
            "windows-1258", [0x58, 0x69, 0x6E, 0x20, 0x63, 0x68, 0x61, 0x6F, 0x2C, 0x20, 0xF0, 0xF4, 0x6E, 0x67],
            "Xin chao, \u{111}\u{F4}ng"),
        Sample(
            "gb2312",
            [
                0xC4, 0xE3, 0xBA, 0xC3, 0xA3, 0xAC, 0xCA, 0xC0, 0xBD, 0xE7, 0xA1, 0xA3, 0xD6, 0xD0, 0xCE, 0xC4, 0xD3,
                0xCA, 0xBC, 0xFE,
            ], "\u{4F60}\u{597D}\u{FF0C}\u{4E16}\u{754C}\u{3002}\u{4E2D}\u{6587}\u{90AE}\u{4EF6}"),
        Sample(
            "gbk", [0xC4, 0xE3, 0xBA, 0xC3, 0xA3, 0xAC, 0xCA, 0xC0, 0xBD, 0xE7, 0xA1, 0xA3, 0xE9, 0x46],
            "\u{4F60}\u{597D}\u{FF0C}\u{4E16}\u{754C}\u{3002}\u{9555}"),
        Sample(
            "gb18030",
            [
                0xC4, 0xE3, 0xBA, 0xC3, 0xA3, 0xAC, 0xCA, 0xC0, 0xBD, 0xE7, 0x20, 0x95, 0x32, 0x82, 0x36, 0x20, 0xA2,
                0xE3,
            ], "\u{4F60}\u{597D}\u{FF0C}\u{4E16}\u{754C} \u{20000} \u{20AC}"),
        Sample(
            "big5",
            [
                0xA7, 0x41, 0xA6, 0x6E, 0xA1, 0x41, 0xA5, 0x40, 0xAC, 0xC9, 0xA1, 0x43, 0xC1, 0x63, 0xC5, 0xE9, 0xA4,
                0xA4, 0xA4, 0xE5,
            ], "\u{4F60}\u{597D}\u{FF0C}\u{4E16}\u{754C}\u{3002}\u{7E41}\u{9AD4}\u{4E2D}\u{6587}"),
        Sample(
            "iso-2022-jp",
            [
                0x1B, 0x24, 0x42, 0x24, 0x33, 0x24, 0x73, 0x24, 0x4B, 0x24, 0x41, 0x24, 0x4F, 0x21, 0x22, 0x40, 0x24,
                0x33, 0x26, 0x21, 0x23, 0x46, 0x7C, 0x4B, 0x5C, 0x38, 0x6C, 0x24, 0x4E, 0x25, 0x61, 0x21, 0x3C, 0x25,
                0x6B, 0x1B, 0x28, 0x42,
            ],
            "\u{3053}\u{3093}\u{306B}\u{3061}\u{306F}\u{3001}\u{4E16}\u{754C}\u{3002}\u{65E5}\u{672C}\u{8A9E}\u{306E}\u{30E1}\u{30FC}\u{30EB}"
        ),
        Sample(
            "shift_jis",
            [
                0x82, 0xB1, 0x82, 0xF1, 0x82, 0xC9, 0x82, 0xBF, 0x82, 0xCD, 0x81, 0x41, 0x90, 0xA2, 0x8A, 0x45, 0x81,
                0x42, 0x83, 0x4A, 0x83, 0x5E, 0x83, 0x4A, 0x83, 0x69,
            ],
            "\u{3053}\u{3093}\u{306B}\u{3061}\u{306F}\u{3001}\u{4E16}\u{754C}\u{3002}\u{30AB}\u{30BF}\u{30AB}\u{30CA}"),
        Sample(
            "euc-kr", [0xBE, 0xC8, 0xB3, 0xE7, 0xC7, 0xCF, 0xBC, 0xBC, 0xBF, 0xE4, 0x2C, 0x20, 0xBC, 0xBC, 0xB0, 0xE8],
            "\u{C548}\u{B155}\u{D558}\u{C138}\u{C694}, \u{C138}\u{ACC4}"),
        Sample(
            "ks_c_5601-1987",
            [
                0xBE, 0xC8, 0xB3, 0xE7, 0xC7, 0xCF, 0xBC, 0xBC, 0xBF, 0xE4, 0x20, 0x8C, 0x63, 0xB9, 0xE6, 0xB0, 0xA2,
                0xC7, 0xCF,
            ], "\u{C548}\u{B155}\u{D558}\u{C138}\u{C694} \u{B620}\u{BC29}\u{AC01}\u{D558}"),
        Sample(
            "koi8-r",
            [
                0xF3, 0xDF, 0xC5, 0xDB, 0xD8, 0x20, 0xD6, 0xC5, 0x20, 0xC5, 0xDD, 0xA3, 0x20, 0xDC, 0xD4, 0xC9, 0xC8,
                0x20, 0xCD, 0xD1, 0xC7, 0xCB, 0xC9, 0xC8, 0x20, 0xC2, 0xD5, 0xCC, 0xCF, 0xCB,
            ],
            "\u{421}\u{44A}\u{435}\u{448}\u{44C} \u{436}\u{435} \u{435}\u{449}\u{451} \u{44D}\u{442}\u{438}\u{445} \u{43C}\u{44F}\u{433}\u{43A}\u{438}\u{445} \u{431}\u{443}\u{43B}\u{43E}\u{43A}"
        ),
        Sample(
            "utf-7",
            [
                0x48, 0x69, 0x20, 0x4D, 0x6F, 0x6D, 0x20, 0x2D, 0x2B, 0x4A, 0x6A, 0x6F, 0x2D, 0x2D, 0x21, 0x20, 0x2B,
                0x5A, 0x65, 0x56, 0x6E, 0x4C, 0x49, 0x71, 0x65, 0x2D,
            ], "Hi Mom -\u{263A}-! \u{65E5}\u{672C}\u{8A9E}"),
    ]

    @Test("each charset reads right", arguments: samples)
    func decodes(_ sample: Sample) {
        let decoded = Charset.decode(sample.bytes, label: sample.label)
        #expect(decoded.charsetIsKnown)
        #expect(decoded.text == sample.text)
    }

    @Test("labels are normalised to the superset mail programs write")
    func aliases() {
        #expect(Charset(label: "gb2312")?.iconvName == "GB18030")
        #expect(Charset(label: "GBK")?.iconvName == "GB18030")
        #expect(Charset(label: "ks_c_5601-1987")?.iconvName == "CP949")
        #expect(Charset(label: "EUC-KR")?.iconvName == "CP949")
        #expect(Charset(label: "x-sjis")?.iconvName == "CP932")
        #expect(Charset(label: "Shift_JIS")?.iconvName == "CP932")
        #expect(Charset(label: "unicode-1-1-utf-7")?.iconvName == "UTF-7")
        #expect(Charset(label: "windows-1251")?.iconvName == "CP1251")
        #expect(Charset(label: "cp1250")?.iconvName == "CP1250")
        #expect(Charset(label: "\"ISO_8859-2:1987\"")?.iconvName == "ISO-8859-2")
        #expect(Charset(label: " big5 ")?.iconvName == "CP950")
        #expect(Charset(label: "latin1")?.iconvName == "CP1252")
        #expect(Charset(label: "utf-8*en")?.iconvName == "UTF-8")
    }

    @Test("a Shift_JIS backslash stays a backslash (CP932, not JIS X 0201's yen)")
    func shiftJISBackslash() {
        #expect(Charset.decode([0x43, 0x3A, 0x5C, 0x7E], label: "shift_jis").text == "C:\\~")
    }

    @Test("invalid sequences become U+FFFD and decoding goes on")
    func invalidSequences() {
        #expect(Charset.decode([0x61, 0xFF, 0x62], label: "utf-8").text == "a\u{FFFD}b")
        // 0x82 is a Shift_JIS lead byte; 0x20 cannot follow it.
        #expect(Charset.decode([0x61, 0x82, 0x20, 0x62], label: "shift_jis").text.hasPrefix("a\u{FFFD}"))
        #expect(Charset.decode([0x61, 0x82, 0x20, 0x62], label: "shift_jis").text.hasSuffix("b"))
        // A sequence cut off at the end.
        #expect(Charset.decode([0x61, 0xC4], label: "gb2312").text == "a\u{FFFD}")
        #expect(Charset.decode([0x61, 0xB0], label: "euc-kr").text == "a\u{FFFD}")
        // ISO-2022-JP: an escape into JIS X 0208 with half a character.
        #expect(Charset.decode([0x1B, 0x24, 0x42, 0x46], label: "iso-2022-jp").text.contains("\u{FFFD}"))
        #expect(Charset.decode([], label: "big5").text == "")
    }

    @Test("an unknown charset reads as UTF-8 with replacement and says so")
    func unknownCharset() {
        let decoded = Charset.decode(Array("héllo".utf8) + [0xFF], label: "x-made-up-charset")
        #expect(!decoded.charsetIsKnown)
        #expect(decoded.text == "héllo\u{FFFD}")
        // Converters glibc has but mail does not need are not opened.
        #expect(Charset(label: "ISO-2022-CN-EXT") == nil)
        #expect(Charset(label: String(repeating: "a", count: 200)) == nil)
    }

    @Test("US-ASCII with 8-bit bytes: UTF-8 when it is UTF-8, else Windows-1252")
    func mislabelledASCII() {
        #expect(Charset.decode(Array("Grüße".utf8), label: "us-ascii").text == "Grüße")
        #expect(
            Charset.decode([0x47, 0x72, 0xFC, 0xDF, 0x65, 0x20, 0x93, 0x71, 0x94], label: "us-ascii").text
                == "Grüße “q”")
    }

    @Test("a large input decodes whole (iconv's output buffer refills)")
    func largeInput() {
        // In EUC-KR (CP949) 0xA4A4 is the jamo ㄴ (U+3134).
        let bytes = [UInt8](repeating: 0xA4, count: 100_000)
        let text = Charset.decode(bytes, label: "euc-kr").text
        #expect(text.unicodeScalars.count == 50_000)
        #expect(text.unicodeScalars.allSatisfy { $0 == "\u{3134}" })
    }

    @Test(
        "encoded words in the listed charsets",
        arguments: [
            ("=?ISO-2022-JP?B?GyRCRnxLXDhsJE43b0w+GyhC?=", "日本語の件名"),
            ("=?gb2312?B?1tDOxNb3zOI=?=", "中文主题"),
            ("=?koi8-r?Q?=F0=D2=C9=D7=C5=D4_=CD=C9=D2?=", "Привет мир"),
            ("=?shift_jis?B?jI+WvINlg1iDZw==?=", "件名テスト"),
            ("=?ks_c_5601-1987?B?waa48SC9w8fo?=", "제목 시험"),
            ("=?utf-7?B?R3IrQVB3QTN3LWUgK0pqby0=?=", "Grüße ☺"),
            ("=?windows-1252?Q?=93Hi=94_=80?=", "“Hi” €"),
            ("=?iso-8859-15?Q?=A4_5?=", "€ 5"),
        ])
    func encodedWords(_ word: String, _ text: String) {
        #expect(EncodedWord.decode(word) == text)
    }

    @Test("ParsedMail reads 8-bit and base64 bodies in their charsets, and unknown ones read as UTF-8")
    func bodies() throws {
        var raw = Array(
            "Subject: =?big5?B?pKSk5Q==?=\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n".utf8)
        raw += Array("Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".utf8)
        raw += [0x47, 0x72, 0xFC, 0xDF, 0x65, 0x0D, 0x0A]
        raw += Array(
            "--b\r\nContent-Type: text/html; charset=\"big5\"\r\nContent-Transfer-Encoding: base64\r\n\r\n".utf8)
        raw += Array("wWPF6aSkpOWlv6TlDQqyxKRHpuYNCg==\r\n--b--\r\n".utf8)
        let mail = try ParsedMail(parsing: raw)
        #expect(mail.header("Subject") == "中文")
        #expect(mail.textBody == "Grüße")
        #expect(mail.htmlBody == "繁體中文正文\n第二行\n")
        #expect(mail.unknownCharsets.isEmpty)

        let odd = try ParsedMail(
            parsing: Array("Content-Type: text/plain; charset=x-unheard-of\r\n\r\nhi \u{263A}".utf8))
        #expect(odd.textBody == "hi \u{263A}")
        #expect(odd.unknownCharsets == ["x-unheard-of"])
    }

    @Test("a raw 8-bit Latin-1 header reads as Windows-1252, a raw UTF-8 one as UTF-8")
    func rawHeaders() throws {
        let latin = try ParsedMail(parsing: [
            0x53, 0x75, 0x62, 0x6A, 0x65, 0x63, 0x74, 0x3A, 0x20, 0x47, 0x72, 0xFC, 0xDF, 0x65, 0x0D, 0x0A, 0x0D, 0x0A,
        ])
        #expect(latin.header("Subject") == "Grüße")
        let utf8 = try ParsedMail(parsing: Array("Subject: 你好\r\n\r\n".utf8))
        #expect(utf8.header("Subject") == "你好")
    }
}
