/// The named character references `HTMLTokenizer` decodes: the ones mail programs write.
///
/// Why not all 2,231 of the standard: a reference not here stays as text (`&name;` shows as
/// it is), which is harmless; the tokenizer's output is escaped again before it is shown.
enum HTMLEntities {
    /// Name (without `&` and `;`) to text.
    static let named: [String: String] = [
        "colon": ":", "Tab": "\t", "NewLine": "\n", "lpar": "(", "rpar": ")", "sol": "/", "bsol": "\\",
        "amp": "\u{26}", "lt": "\u{3C}", "gt": "\u{3E}", "quot": "\u{22}", "apos": "\u{27}", "nbsp": "\u{A0}",
        "copy": "\u{A9}", "reg": "\u{AE}", "trade": "\u{2122}", "hellip": "\u{2026}", "mdash": "\u{2014}", "ndash": "\u{2013}",
        "lsquo": "\u{2018}", "rsquo": "\u{2019}", "sbquo": "\u{201A}", "ldquo": "\u{201C}", "rdquo": "\u{201D}", "bdquo": "\u{201E}",
        "bull": "\u{2022}", "middot": "\u{B7}", "euro": "\u{20AC}", "pound": "\u{A3}", "yen": "\u{A5}", "cent": "\u{A2}",
        "sect": "\u{A7}", "para": "\u{B6}", "deg": "\u{B0}", "plusmn": "\u{B1}", "times": "\u{D7}", "divide": "\u{F7}",
        "micro": "\u{B5}", "laquo": "\u{AB}", "raquo": "\u{BB}", "iexcl": "\u{A1}", "iquest": "\u{BF}", "shy": "\u{AD}",
        "macr": "\u{AF}", "acute": "\u{B4}", "cedil": "\u{B8}", "ordf": "\u{AA}", "ordm": "\u{BA}", "sup1": "\u{B9}",
        "sup2": "\u{B2}", "sup3": "\u{B3}", "frac14": "\u{BC}", "frac12": "\u{BD}", "frac34": "\u{BE}", "curren": "\u{A4}",
        "brvbar": "\u{A6}", "uml": "\u{A8}", "not": "\u{AC}", "Agrave": "\u{C0}", "Aacute": "\u{C1}", "Acirc": "\u{C2}",
        "Atilde": "\u{C3}", "Auml": "\u{C4}", "Aring": "\u{C5}", "AElig": "\u{C6}", "Ccedil": "\u{C7}", "Egrave": "\u{C8}",
        "Eacute": "\u{C9}", "Ecirc": "\u{CA}", "Euml": "\u{CB}", "Igrave": "\u{CC}", "Iacute": "\u{CD}", "Icirc": "\u{CE}",
        "Iuml": "\u{CF}", "ETH": "\u{D0}", "Ntilde": "\u{D1}", "Ograve": "\u{D2}", "Oacute": "\u{D3}", "Ocirc": "\u{D4}",
        "Otilde": "\u{D5}", "Ouml": "\u{D6}", "Oslash": "\u{D8}", "Ugrave": "\u{D9}", "Uacute": "\u{DA}", "Ucirc": "\u{DB}",
        "Uuml": "\u{DC}", "Yacute": "\u{DD}", "THORN": "\u{DE}", "szlig": "\u{DF}", "agrave": "\u{E0}", "aacute": "\u{E1}",
        "acirc": "\u{E2}", "atilde": "\u{E3}", "auml": "\u{E4}", "aring": "\u{E5}", "aelig": "\u{E6}", "ccedil": "\u{E7}",
        "egrave": "\u{E8}", "eacute": "\u{E9}", "ecirc": "\u{EA}", "euml": "\u{EB}", "igrave": "\u{EC}", "iacute": "\u{ED}",
        "icirc": "\u{EE}", "iuml": "\u{EF}", "eth": "\u{F0}", "ntilde": "\u{F1}", "ograve": "\u{F2}", "oacute": "\u{F3}",
        "ocirc": "\u{F4}", "otilde": "\u{F5}", "ouml": "\u{F6}", "oslash": "\u{F8}", "ugrave": "\u{F9}", "uacute": "\u{FA}",
        "ucirc": "\u{FB}", "uuml": "\u{FC}", "yacute": "\u{FD}", "thorn": "\u{FE}", "yuml": "\u{FF}", "OElig": "\u{152}",
        "oelig": "\u{153}", "Scaron": "\u{160}", "scaron": "\u{161}", "Yuml": "\u{178}", "fnof": "\u{192}", "circ": "\u{2C6}",
        "tilde": "\u{2DC}", "ensp": "\u{2002}", "emsp": "\u{2003}", "thinsp": "\u{2009}", "zwnj": "\u{200C}", "zwj": "\u{200D}",
        "lrm": "\u{200E}", "rlm": "\u{200F}", "dagger": "\u{2020}", "Dagger": "\u{2021}", "permil": "\u{2030}", "lsaquo": "\u{2039}",
        "rsaquo": "\u{203A}", "prime": "\u{2032}", "Prime": "\u{2033}", "oline": "\u{203E}", "frasl": "\u{2044}", "larr": "\u{2190}",
        "uarr": "\u{2191}", "rarr": "\u{2192}", "darr": "\u{2193}", "harr": "\u{2194}", "crarr": "\u{21B5}", "lArr": "\u{21D0}",
        "rArr": "\u{21D2}", "hArr": "\u{21D4}", "Alpha": "\u{391}", "Beta": "\u{392}", "Gamma": "\u{393}", "Delta": "\u{394}",
        "alpha": "\u{3B1}", "beta": "\u{3B2}", "gamma": "\u{3B3}", "delta": "\u{3B4}", "epsilon": "\u{3B5}", "lambda": "\u{3BB}",
        "mu": "\u{3BC}", "pi": "\u{3C0}", "sigma": "\u{3C3}", "omega": "\u{3C9}", "Omega": "\u{3A9}", "infin": "\u{221E}",
        "ne": "\u{2260}", "le": "\u{2264}", "ge": "\u{2265}", "asymp": "\u{2248}", "sum": "\u{2211}", "minus": "\u{2212}",
        "radic": "\u{221A}", "check": "\u{2713}", "cross": "\u{2717}", "star": "\u{2606}", "hearts": "\u{2665}", "spades": "\u{2660}",
        "clubs": "\u{2663}", "diams": "\u{2666}", "loz": "\u{25CA}",
    ]

    /// Names the standard also accepts without the closing `;` (outside attribute values).
    static let legacy: Set<String> = [
        "AElig", "Aacute", "Acirc", "Agrave", "Aring", "Atilde", "Auml", "Ccedil", "ETH", "Eacute",
        "Ecirc", "Egrave", "Euml", "Iacute", "Icirc", "Igrave", "Iuml", "Ntilde", "Oacute", "Ocirc",
        "Ograve", "Oslash", "Otilde", "Ouml", "THORN", "Uacute", "Ucirc", "Ugrave", "Uuml", "Yacute",
        "aacute", "acirc", "acute", "aelig", "agrave", "amp", "aring", "atilde", "auml", "brvbar",
        "ccedil", "cedil", "cent", "copy", "curren", "deg", "divide", "eacute", "ecirc", "egrave",
        "eth", "euml", "frac12", "frac14", "frac34", "gt", "iacute", "icirc", "iexcl", "igrave",
        "iquest", "iuml", "laquo", "lt", "macr", "micro", "middot", "nbsp", "not", "ntilde",
        "oacute", "ocirc", "ograve", "ordf", "ordm", "oslash", "otilde", "ouml", "para", "plusmn",
        "pound", "quot", "raquo", "reg", "sect", "shy", "sup1", "sup2", "sup3", "szlig",
        "thorn", "times", "uacute", "ucirc", "ugrave", "uml", "uuml", "yacute", "yen", "yuml",
    ]
}
