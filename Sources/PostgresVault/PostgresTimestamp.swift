import Foundation
import NIOCore
import PostgresNIO

/// A `timestamptz` written and read at millisecond precision, as GRDB stores dates in the
/// SQLite vault, so the same record reads back equal from either backend.
///
/// PostgreSQL keeps microseconds and PostgresNIO's `Date` coding passes them through. A time
/// written here is first rounded to the nearest millisecond, as GRDB's
/// `yyyy-MM-dd HH:mm:ss.SSS` formatter does, and read back as the very `Date` GRDB makes of
/// that text: whole seconds since 2001 plus the milliseconds as a fraction, the way
/// Foundation's calendar assembles date components. So a record reads back equal from
/// either backend, and writing a time read back stores it unchanged.
struct PostgresTimestamp: PostgresNonThrowingEncodable, PostgresDecodable, Sendable {
    /// The time, at millisecond precision.
    let date: Date

    /// Wraps `date`, rounded to its millisecond.
    init(_ date: Date) {
        self.date = Self.date(milliseconds: Self.milliseconds(date))
    }

    /// Milliseconds since 1970, to the nearest.
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.toNearestOrAwayFromZero))
    }

    /// The `Date` of a millisecond since 1970, built as GRDB's decoding builds it.
    static func date(milliseconds: Int64) -> Date {
        let sinceReference = milliseconds - referenceDateMilliseconds
        let seconds = sinceReference >= 0 ? sinceReference / 1000 : -((-sinceReference + 999) / 1000)
        let fraction = sinceReference - seconds * 1000
        return Date(timeIntervalSinceReferenceDate: Double(seconds) + Double(fraction * 1_000_000) / 1e9)
    }

    /// 2001-01-01 00:00 UTC (Foundation's reference date), in milliseconds since 1970.
    private static let referenceDateMilliseconds: Int64 = 978_307_200_000

    /// PostgreSQL's epoch, 2000-01-01 00:00 UTC, in milliseconds since 1970.
    private static let postgresEpochMilliseconds: Int64 = 946_684_800_000

    static var psqlType: PostgresDataType { .timestamptz }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeInteger((Self.milliseconds(date) - Self.postgresEpochMilliseconds) * 1000)
    }

    init<JSONDecoder: PostgresJSONDecoder>(
        from buffer: inout ByteBuffer, type: PostgresDataType, format: PostgresFormat,
        context: PostgresDecodingContext<JSONDecoder>
    ) throws {
        guard type == .timestamptz || type == .timestamp, format == .binary, buffer.readableBytes == 8,
            let microseconds = buffer.readInteger(as: Int64.self)
        else { throw PostgresDecodingError.Code.typeMismatch }
        // Floor division: a time before 2000 has negative microseconds.
        let milliseconds = microseconds >= 0 ? microseconds / 1000 : -((-microseconds + 999) / 1000)
        self.date = Self.date(milliseconds: milliseconds + Self.postgresEpochMilliseconds)
    }
}

extension Date {
    /// This time as a millisecond-precision `timestamptz` bind.
    var postgres: PostgresTimestamp { PostgresTimestamp(self) }
}
