import CoreMetrics
import Foundation
import Prometheus
import RetractCore
import RetractMetrics
import RetractServer

#if canImport(Glibc)
    import Glibc
#endif

extension ServeCommand {
    /// Bootstraps swift-metrics once with Retract's factory over a new registry, and says
    /// where `/metrics` is served: the public port, or `--metrics-listen` /
    /// `RETRACT_METRICS_LISTEN` (`HOST:PORT`), where it is alone and the public port has none.
    ///
    /// An address that does not parse, or that something already listens on, is one line
    /// before anything starts.
    static func metricsExport(listen: String?) throws -> MetricsExport {
        let option = listen == nil ? "RETRACT_METRICS_LISTEN" : "--metrics-listen"
        var address: (host: String, port: Int)?
        if let text = listen ?? Environment.value("RETRACT_METRICS_LISTEN") {
            let parsed: (String, Int)
            do {
                parsed = try listenAddress(text)
            } catch {
                throw RetractError.invalidInput(
                    "\(option) \(text.debugDescription) is not an address; use HOST:PORT, like 127.0.0.1:9464")
            }
            try checkFree(host: parsed.0, port: parsed.1, option: option)
            address = parsed
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(RetractMetricsFactory(registry: registry))
        return MetricsExport(registry: registry, listen: address)
    }

    /// Throws when nothing may bind `host:port` now (in use, not an address of this host);
    /// a host name that is no numeric address is left to the server to resolve.
    static func checkFree(host: String, port: Int, option: String) throws {
        var storage = sockaddr_storage()
        let length: socklen_t
        let family: Int32
        let literal = host == "localhost" ? "127.0.0.1" : host
        if literal.contains(":") {
            var address = sockaddr_in6()
            guard inet_pton(AF_INET6, literal, &address.sin6_addr) == 1 else { return }
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeBytes(of: address) { bytes in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) }
            }
            (length, family) = (socklen_t(MemoryLayout<sockaddr_in6>.size), AF_INET6)
        } else {
            var address = sockaddr_in()
            guard inet_pton(AF_INET, literal, &address.sin_addr) == 1 else { return }
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeBytes(of: address) { bytes in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) }
            }
            (length, family) = (socklen_t(MemoryLayout<sockaddr_in>.size), AF_INET)
        }
        let socket = Glibc.socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return }
        defer { close(socket) }
        var reuse: Int32 = 1
        _ = setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        guard bound != 0 else { return }
        let failure = errno
        guard failure == EADDRINUSE else {
            throw RetractError.invalidInput(
                "\(option) \(host):\(port): \(String(cString: strerror(failure))); use an address of this host")
        }
        throw RetractError.invalidInput(
            "\(option) \(host):\(port): the address is in use; pick another port or stop what listens there")
    }
}
