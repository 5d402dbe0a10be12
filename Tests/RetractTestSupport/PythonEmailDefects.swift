import Foundation

/// The defects Python's `email` package (policy=email.policy.default) finds in a message, as
/// Python prints the list: `[]` for a clean one.
public func pythonEmailDefects(_ bytes: [UInt8], in directory: URL) throws -> String {
    let file = directory.appendingPathComponent("mail-\(UUID().uuidString).eml")
    try Data(bytes).write(to: file)
    let script = """
        import email, email.policy, sys
        m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
        defects = list(m.defects)
        for part in m.walk():
            defects += list(part.defects)
            if not part.is_multipart():
                part.get_content()
        print([type(d).__name__ for d in defects])
        """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = ["-c", script, file.path]
    let output = Pipe()
    process.standardOutput = output
    try process.runSafely()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
