// swift-tools-version:6.1
import PackageDescription

/// The libFuzzer executables (issue 17), one per `FuzzTarget` of the main package; a package
/// of their own because an executable whose `main` comes from libFuzzer cannot link in the
/// main package's `swift build --build-tests`. Build and run them with `make fuzz`
/// (`swift build -c debug --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address`
/// there; the Makefile says why both).
let targets = [
    "SMTPServerCommandFuzz",
    "SMTPServerFramesFuzz",
    "IncomingHeadersFuzz",
    "AttachmentExtractorFuzz",
    "ParsedMailFuzz",
    "HeaderFieldsFuzz",
    "BodyDecodingFuzz",
    "CharsetFuzz",
    "HTMLSanitizerFuzz",
    "CSSSanitizerFuzz",
    "SMTPReplyFuzz",
    "LinkFuzz",
    "SealedPartFuzz",
    "SealedEnvelopeFuzz",
    "RecallRequestFuzz",
    "RevokeReplyFuzz",
    "AcceptLanguageFuzz",
    "RequestHeadersFuzz",
    "APIJSONFuzz",
]

let package = Package(
    name: "RetractFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "Retract", path: "..")],
    targets: targets.map { name in
        .executableTarget(
            name: name,
            dependencies: [.product(name: "RetractFuzzTargets", package: "Retract")],
            // libFuzzer supplies `main`: the file is a library-style file, not a script.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    }
)
