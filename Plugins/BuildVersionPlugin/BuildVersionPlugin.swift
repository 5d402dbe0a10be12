import Foundation
import PackagePlugin

/// Stamps the `retract` executable with the git description of the checkout it is built
/// from (`retract --version`), through the `retract-build-version` tool.
///
/// A build command, not a prebuild one (those cannot run a tool built from source): it runs
/// again when one of its inputs changes, which are the git files a commit or a checkout
/// rewrites (HEAD, the branch's ref, packed-refs, the index). Outside a git checkout the
/// tool writes "unknown" and the build goes on.
@main
struct BuildVersionPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let root = context.package.directoryURL
        let git = root.appending(path: ".git")
        let output = context.pluginWorkDirectoryURL.appending(path: "BuildVersion.swift")
        var inputs = ["HEAD", "index", "packed-refs"].map { git.appending(path: $0) }
        if let head = try? String(contentsOf: git.appending(path: "HEAD"), encoding: .utf8),
            head.hasPrefix("ref: ")
        {
            inputs.append(git.appending(path: head.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        return [
            .buildCommand(
                displayName: "Stamping retract with its git description",
                executable: try context.tool(named: "retract-build-version").url,
                arguments: [root.path, output.path],
                inputFiles: inputs.filter { FileManager.default.fileExists(atPath: $0.path) },
                outputFiles: [output])
        ]
    }
}
