import Foundation

/// How an `SMTPServer` listens and what it accepts.
///
/// The defaults are those of the Postfix content-filter deployment: messages up to 50 MiB,
/// 100 recipients per transaction, 100 connections, 300 s per command, relaying for
/// loopback clients only.
public struct SMTPServerConfiguration: Sendable {
    /// The address to bind (`127.0.0.1`, `::`, `0.0.0.0`).
    public var host: String
    /// The port to bind; 0 picks a free one (see `SMTPServer.listeningAddress()`).
    public var port: Int
    /// The name announced in the greeting and EHLO reply.
    public var hostname: String
    /// Where message content is written while it is received (created with mode 0700 if
    /// missing). Each message gets a file of its own, removed after the acceptor answered.
    public var spoolDirectory: URL
    /// The largest message accepted, in bytes (`SIZE`); larger ones get 552.
    public var maximumMessageSize: Int64
    /// The most recipients in one transaction; more get 452.
    public var maximumRecipients: Int
    /// The most connections served at once; more get 421 and are closed.
    public var maximumConnections: Int
    /// How long the server waits for the next command (or the next content line); then 421.
    public var commandTimeout: Duration
    /// On shutdown, how long sessions may take to finish their current command before they
    /// are closed.
    public var shutdownGracePeriod: Duration
    /// Clients that may relay without AUTH and send XFORWARD (the local MTA).
    public var trustedNetworks: [SMTPNetwork]
    /// Whether AUTH PLAIN / LOGIN is offered (over TLS, or to loopback clients).
    public var authenticationEnabled: Bool
    /// The certificate for STARTTLS; nil: no STARTTLS.
    public var tls: TLS?
    /// Recipients this server takes mail for itself, from any client (Retract's recall
    /// addresses); a client that may not relay can still send to these, and only to these.
    /// Nil: none, and such a client is refused at MAIL (530).
    public var localRecipient: (@Sendable (String) -> Bool)?

    /// PEM files for STARTTLS.
    public struct TLS: Sendable, Hashable {
        /// The certificate chain, leaf first.
        public var certificateChainPath: String
        /// The private key.
        public var privateKeyPath: String

        /// Certificate and key from PEM files.
        public init(certificateChainPath: String, privateKeyPath: String) {
            self.certificateChainPath = certificateChainPath
            self.privateKeyPath = privateKeyPath
        }
    }

    /// A configuration with the defaults above.
    public init(
        host: String = "127.0.0.1", port: Int = 10025, hostname: String, spoolDirectory: URL,
        maximumMessageSize: Int64 = 50 * 1024 * 1024, maximumRecipients: Int = 100, maximumConnections: Int = 100,
        commandTimeout: Duration = .seconds(300), shutdownGracePeriod: Duration = .seconds(30),
        trustedNetworks: [SMTPNetwork] = SMTPNetwork.loopback, authenticationEnabled: Bool = true, tls: TLS? = nil,
        localRecipient: (@Sendable (String) -> Bool)? = nil
    ) {
        self.localRecipient = localRecipient
        self.host = host
        self.port = port
        self.hostname = hostname
        self.spoolDirectory = spoolDirectory
        self.maximumMessageSize = maximumMessageSize
        self.maximumRecipients = maximumRecipients
        self.maximumConnections = maximumConnections
        self.commandTimeout = commandTimeout
        self.shutdownGracePeriod = shutdownGracePeriod
        self.trustedNetworks = trustedNetworks
        self.authenticationEnabled = authenticationEnabled
        self.tls = tls
    }

    /// Throws when a value cannot work (a limit below one, a port out of range, a hostname
    /// with spaces or line breaks).
    func validate() throws(SMTPServerError) {
        guard (0...65535).contains(self.port) else {
            throw SMTPServerError.invalidConfiguration.with("port \(self.port) is out of range")
        }
        guard self.maximumMessageSize > 0, self.maximumRecipients > 0, self.maximumConnections > 0 else {
            throw SMTPServerError.invalidConfiguration.with(
                "the message size, recipient and connection limits must be at least 1")
        }
        guard self.commandTimeout > .zero else {
            throw SMTPServerError.invalidConfiguration.with("the command timeout must be positive")
        }
        guard !self.hostname.isEmpty, self.hostname.allSatisfy({ $0.isASCII && !$0.isWhitespace && !$0.isNewline })
        else {
            throw SMTPServerError.invalidConfiguration.with("the hostname must be one ASCII word")
        }
    }
}
