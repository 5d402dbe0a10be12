/// One scenario file: an `expect:` line, a `description:` line, then `name: value` fields.
struct Vector {
    let name: String
    let expect: Expectation
    let description: String
    let fields: [(name: String, value: String)]

    /// The file's text.
    var rendered: String {
        var lines = ["expect: \(expect.rawValue)", "description: \(description)"]
        for field in fields {
            lines.append(field.value.isEmpty ? "\(field.name):" : "\(field.name): \(field.value)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
