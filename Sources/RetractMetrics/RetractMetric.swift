/// Every metric Retract exports, with the help text Prometheus shows for it.
///
/// One catalogue, so a name and its help are written once: the factory looks the help up
/// here (a Prometheus registry refuses two help texts for one name), the docs list the
/// same names (docs/operations.md), and a test checks that the output passes
/// `promtool check metrics`. No label ever carries a token, a link key, an address or a
/// subject: routes are templates, outcomes and scopes are fixed words.
public enum RetractMetric: String, CaseIterable, Sendable {
    /// HTTP requests answered, by route template, method and status.
    case httpRequests = "retract_http_requests_total"
    /// How long HTTP requests took, by route template and method.
    case httpRequestDuration = "retract_http_request_duration_seconds"
    /// Messages sealed and sent (API, web app, CLI, gateway).
    case sends = "retract_sends_total"
    /// Recipients of sent messages (one grant each).
    case sendRecipients = "retract_send_recipients_total"
    /// Attempts to open a link, by outcome.
    case opens = "retract_opens_total"
    /// Grants revoked, by outcome: before or after their first open, or cancelled unsent.
    case revokes = "retract_revokes_total"
    /// Revocation notices queued for recipients.
    case notices = "retract_notices_total"
    /// Mails handed to the relay, by outcome and the class of its reply.
    case smtpDeliveries = "retract_smtp_deliveries_total"
    /// Mails through the SMTP gateway, by outcome.
    case gatewayMessages = "retract_gateway_messages_total"
    /// Attempts refused by a rate limit, by scope.
    case rateLimitHits = "retract_rate_limit_hits_total"
    /// Mails in the outbox still to go out.
    case outboxDepth = "retract_outbox_depth"
    /// Seconds the longest-waiting due mail has waited.
    case outboxOldestDueAge = "retract_outbox_oldest_due_age_seconds"
    /// Seconds since the active master key was created.
    case activeKeyAge = "retract_key_active_age_seconds"
    /// Live grant shares sealed under each master key, by key id.
    case keyShares = "retract_key_shares"
    /// Master keys in the key ring.
    case keys = "retract_keys"

    /// The Prometheus metric name.
    public var name: String { rawValue }

    /// The `# HELP` line's text.
    public var help: String {
        switch self {
        case .httpRequests: "HTTP requests answered, by route template, method and status."
        case .httpRequestDuration: "Time to answer an HTTP request, by route template and method."
        case .sends: "Messages sealed and sent."
        case .sendRecipients: "Recipients of sent messages (one grant each)."
        case .opens: "Attempts to open a link, by outcome."
        case .revokes: "Grants revoked, by outcome (before_open, after_open, cancelled)."
        case .notices: "Revocation notices queued for recipients."
        case .smtpDeliveries: "Outbox mails handed to the relay, by outcome and the relay's reply class."
        case .gatewayMessages: "Messages through the SMTP gateway, by outcome."
        case .rateLimitHits: "Attempts refused by a rate limit, by scope."
        case .outboxDepth: "Outbox mails still to go out (queued, retrying or being sent)."
        case .outboxOldestDueAge: "Seconds the longest-waiting due outbox mail has waited (0 when none is due)."
        case .activeKeyAge: "Seconds since the active master key was created."
        case .keyShares: "Live grant shares sealed under each master key, by key id."
        case .keys: "Master keys in the key ring."
        }
    }

    /// The metric of a Prometheus name, if it is one of Retract's.
    static let byName: [String: RetractMetric] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.name, $0) })
}
