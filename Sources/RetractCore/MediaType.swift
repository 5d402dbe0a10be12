/// Media types for attachment names, so the reader's browser knows what it downloads.
enum MediaType {
    static let byExtension: [String: String] = [
        "pdf": "application/pdf", "txt": "text/plain", "csv": "text/csv", "png": "image/png",
        "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "zip": "application/zip",
        "doc": "application/msword", "xls": "application/vnd.ms-excel", "json": "application/json",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ]

    /// The media type for a file name, `application/octet-stream` when unknown.
    static func forFileName(_ name: String) -> String {
        guard let dot = name.lastIndex(of: ".") else { return "application/octet-stream" }
        return byExtension[name[name.index(after: dot)...].lowercased()] ?? "application/octet-stream"
    }
}
