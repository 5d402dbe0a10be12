import Foundation
import Mail
import RetractTestSupport
import Vault

@testable import RetractCore

extension TestBench {
    /// A second service over the same data and keys directories: what a restart sees.
    func restartedService() throws -> RetractService {
        RetractService(
            configuration: configuration, vault: try VaultDatabase.open(directory: configuration.dataDirectory),
            keys: try KeyDirectory(url: configuration.keysDirectory).load(), templates: try MailTemplates(),
            transport: FileOutboxTransport(directory: configuration.outboxDirectory), now: { [clock] in clock.now })
    }
}
