import Foundation

/// The command line of `retract-bench`; every option has the default `make bench` uses.
struct BenchOptions {
    /// MiB sealed and opened per throughput run.
    var sizeMiB = 256
    /// Attachment sizes, MiB, whose peak memory is measured; the goal is judged on each.
    var memorySizesMiB = [64, 1024]
    /// Runs per throughput figure; the best is kept.
    var runs = 5
    /// The `retract` executable; by default the one next to this executable.
    var retract: String?
    /// Where the temporary folder goes.
    var workDirectory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    /// A file to write the Markdown block to, besides standard output.
    var markdownFile: String?
    /// Leave out the memory measurement (no `retract` executable needed).
    var skipMemory = false
    /// Recipients of the message revoked in the revocation figure (issue 3).
    var revokeRecipients = 10_000
    /// Timed revocations (each on a fresh N-recipient message); the best is kept.
    var revokeRuns = 1
    /// Leave out the revocation figures.
    var skipRevoke = false
    /// Notifications delivered over SMTP per round (issue 4).
    var smtpMails = 5_000
    /// Rounds of Retract and the smtplib baseline, alternating; the best of each is kept.
    var smtpRounds = 3
    /// Leave out the SMTP delivery figures.
    var skipSMTP = false
    /// Leave out the SMTP breakdown (no PIPELINING, transport alone, worker alone): for a
    /// quick comparison of Retract and the baseline.
    var skipSMTPBreakdown = false
    /// Leave out the throughput figures (raw, crypto, full path, disk, vault).
    var skipThroughput = false
    /// Seconds per wrk run of the HTTP figure (issue 5).
    var httpSeconds = 10
    /// Interleaved rounds of nginx, healthz, GET page and POST open; best and median are reported.
    var httpRounds = 3
    /// wrk's connections (`-c`) and threads (`-t`); the goal is stated at 32 and 2.
    var httpConnections = 32
    var httpThreads = 2
    /// Leave out the HTTP figure.
    var skipHTTP = false
    /// 2 KiB messages per gateway run (issue 12): through Postfix, and to the SMTP server directly.
    var gatewayMails = 1_000
    /// Alternating rounds of the gateway runs; the best of each is kept.
    var gatewayRounds = 2
    /// MiB of the one large message whose peak memory is judged.
    var gatewayLargeMiB = 100
    /// Leave out the gateway figures.
    var skipGateway = false

    static let usage = """
        usage: retract-bench [--size-mib N] [--memory-sizes-mib N,N…] [--runs N] [--retract PATH]
                             [--work-dir DIR] [--markdown FILE] [--skip-memory]
                             [--revoke-recipients N] [--revoke-runs N] [--skip-revoke]
                             [--smtp-mails N] [--smtp-rounds N] [--skip-smtp] [--skip-smtp-breakdown]
                             [--skip-throughput]
                             [--http-seconds N] [--http-rounds N] [--http-connections N]
                             [--http-threads N] [--skip-http]
                             [--gateway-mails N] [--gateway-rounds N] [--gateway-large-mib N]
                             [--skip-gateway] [--only NAME]

        Measures, in one run: raw libsodium secretstream push/pull (the baseline), Retract's
        seal and open of one attachment (crypto path and full RetractService path), and the
        peak resident memory of `retract send` and `retract serve` for large attachments,
        revoking a message with many recipients (issue 3), and delivering notifications over
        SMTP to a local aiosmtpd sink against Python's smtplib (issue 4; needs /usr/bin/python3
        with aiosmtpd, Tests/Support/smtp_sink.py and scripts/bench_smtplib.py), and wrk against
        `retract serve` (GET /m/{token}, POST /m/{token}/open of a 2 KiB message) beside nginx
        serving a static 2 KiB file (issue 5; needs Debian's wrk and nginx-light), and the SMTP
        gateway (issue 12): 2 KiB messages through a private Postfix with and without Retract as
        its content filter, Retract's SMTP server against an aiosmtpd sink fed by the same
        client, and the peak memory of `retract serve` for one 100 MiB message (needs Debian's
        postfix, run as root, and scripts/bench_count_sink.py).
        Prints a table and a Markdown block for docs/performance.md. Needs a release build of
        both executables (swift build takes one --product; the last one wins):
          swift build -c release --product retract && swift build -c release --product retract-bench

          --size-mib N            MiB per throughput run (default 256)
          --memory-sizes-mib L    attachment sizes for the memory runs (default 64,1024)
          --runs N                runs per throughput figure, best kept (default 5)
          --retract PATH          the retract executable (default: next to retract-bench)
          --work-dir DIR          parent of the temporary folder (default $TMPDIR or /tmp)
          --markdown FILE         also write the Markdown block to FILE
          --skip-memory           leave out the memory measurement
          --revoke-recipients N   recipients of the revoked message (default 10000)
          --revoke-runs N         timed revocations, best kept (default 1)
          --skip-revoke           leave out the revocation figures
          --smtp-mails N          notifications delivered over SMTP per round (default 5000)
          --smtp-rounds N         alternating Retract / smtplib rounds, best kept (default 3)
          --skip-smtp             leave out the SMTP delivery figures
          --skip-smtp-breakdown   only Retract and the baseline, without the breakdown rows
          --skip-throughput       leave out the seal/open throughput figures
          --http-seconds N        seconds per wrk run (default 10)
          --http-rounds N         interleaved nginx / healthz / page / open rounds (default 3)
          --http-connections N    wrk -c (default 32)
          --http-threads N        wrk -t (default 2)
          --skip-http             leave out the HTTP figure
          --gateway-mails N       2 KiB messages per gateway run (default 1000)
          --gateway-rounds N      alternating gateway rounds, best kept (default 2)
          --gateway-large-mib N   size of the large gateway message (default 100)
          --skip-gateway          leave out the gateway figures
          --only NAME             measure only NAME: throughput, memory, revoke, smtp, http or
                                  gateway (e.g. --only gateway)
        """

    /// Parses `arguments` (without the program name).
    init(parsing arguments: [String]) throws(BenchError) {
        var rest = arguments[...]
        func value(_ option: String) throws(BenchError) -> String {
            guard let next = rest.popFirst() else { throw BenchError("\(option) needs a value") }
            return next
        }
        func positive(_ option: String) throws(BenchError) -> Int {
            let text = try value(option)
            guard let number = Int(text), number > 0 else {
                throw BenchError("\(option) must be a positive number, not \(text)")
            }
            return number
        }
        while let option = rest.popFirst() {
            switch option {
            case "--size-mib": sizeMiB = try positive(option)
            case "--runs": runs = try positive(option)
            case "--memory-sizes-mib":
                let text = try value(option)
                let sizes = text.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
                guard !sizes.isEmpty, sizes.count == text.split(separator: ",").count else {
                    throw BenchError("--memory-sizes-mib takes positive numbers separated by commas, not \(text)")
                }
                memorySizesMiB = sizes
            case "--retract": retract = try value(option)
            case "--work-dir": workDirectory = try value(option)
            case "--markdown": markdownFile = try value(option)
            case "--skip-memory": skipMemory = true
            case "--revoke-recipients": revokeRecipients = try positive(option)
            case "--revoke-runs": revokeRuns = try positive(option)
            case "--skip-revoke": skipRevoke = true
            case "--smtp-mails": smtpMails = try positive(option)
            case "--smtp-rounds": smtpRounds = try positive(option)
            case "--skip-smtp": skipSMTP = true
            case "--skip-smtp-breakdown": skipSMTPBreakdown = true
            case "--skip-throughput": skipThroughput = true
            case "--http-seconds": httpSeconds = try positive(option)
            case "--http-rounds": httpRounds = try positive(option)
            case "--http-connections": httpConnections = try positive(option)
            case "--http-threads": httpThreads = try positive(option)
            case "--skip-http": skipHTTP = true
            case "--gateway-mails": gatewayMails = try positive(option)
            case "--gateway-rounds": gatewayRounds = try positive(option)
            case "--gateway-large-mib": gatewayLargeMiB = try positive(option)
            case "--skip-gateway": skipGateway = true
            case "--only":
                let name = try value(option)
                let names = ["throughput", "memory", "revoke", "smtp", "http", "gateway"]
                guard names.contains(name) else {
                    throw BenchError("--only takes one of \(names.joined(separator: ", ")), not \(name)")
                }
                skipThroughput = name != "throughput"
                skipMemory = name != "memory"
                skipRevoke = name != "revoke"
                skipSMTP = name != "smtp"
                skipHTTP = name != "http"
                skipGateway = name != "gateway"
            case "--help", "-h":
                print(Self.usage)
                exit(0)
            default:
                throw BenchError("unknown option \(option); see retract-bench --help")
            }
        }
    }
}
