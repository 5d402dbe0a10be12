import NIOCore
import NIOSSL

/// The SMTP server's framing in the channel pipeline: bytes in, `SMTPServerInput` out;
/// `SMTPServerReply` in, bytes out.
///
/// Commands are answered one at a time: after a command line the handler passes on nothing
/// more until the reply to it has been written, so pipelined commands (RFC 2920) wait in
/// its buffer, a 354 reply switches the bytes that follow DATA to content mode before they
/// are read as commands, and a shutdown request is passed on only between commands. While
/// commands wait, it stops asking the socket for more once 64 KiB are buffered.
///
/// STARTTLS (RFC 3207) works the same way: the 220 to a `STARTTLS` line is written and
/// flushed, and TLS goes in front of this handler in the same event-loop turn, so the
/// client's first TLS byte already meets the TLS handler; anything the client sent in
/// plaintext behind STARTTLS before that is discarded, never read as if it came over TLS
/// (the command injection attack).
///
/// The idle timeout runs while the handler waits for the client: from the end of one reply
/// to the next complete line (a client dribbling bytes does not reset it), and during the
/// content from one line to the next.
final class SMTPServerFramingHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = SMTPServerInput
    typealias OutboundIn = SMTPServerReply
    typealias OutboundOut = ByteBuffer

    private static let bufferedLimit = 64 * 1024

    private var decoder: SMTPServerFrameDecoder
    private var buffer = ByteBuffer()
    private let idleTimeout: TimeAmount
    /// A frame that needs a reply was passed on (or the greeting is not out yet).
    private var awaitingReply = true
    private var shutdownRequested = false
    private var readHeld = false
    /// The last line passed on was STARTTLS: a 220 to it means TLS comes next.
    private var startTLSPending = false
    private let tlsContext: NIOSSLContext?
    private var idleTimer: Scheduled<Void>?

    /// A handler with the given idle timeout and command line limit; with `tlsContext`, a
    /// 220 to STARTTLS puts TLS on the connection.
    init(idleTimeout: TimeAmount, maximumLineLength: Int = 1000, tlsContext: NIOSSLContext? = nil) {
        self.idleTimeout = idleTimeout
        self.tlsContext = tlsContext
        self.decoder = SMTPServerFrameDecoder(maximumLineLength: maximumLineLength)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = Self.unwrapInboundIn(data)
        self.buffer.writeBuffer(&incoming)
        self.passOnFrames(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Frames are passed on, each batch followed by its own read-complete, in `passOnFrames`.
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let reply = Self.unwrapOutboundIn(data)
        var bytes = context.channel.allocator.buffer(capacity: 64)
        reply.write(into: &bytes)
        context.write(Self.wrapOutboundOut(bytes), promise: promise)
        if reply.code == 354 { self.decoder.mode = .content }
        if self.startTLSPending && reply.code == 220, let tlsContext {
            context.flush()
            self.buffer.clear()
            do {
                try context.pipeline.syncOperations.addHandler(
                    NIOSSLServerHandler(context: tlsContext), position: .before(self))
            } catch {
                context.close(promise: nil)
                return
            }
        }
        self.startTLSPending = false
        self.awaitingReply = false
        self.passOnFrames(context: context)
    }

    func read(context: ChannelHandlerContext) {
        if self.awaitingReply && self.buffer.readableBytes >= Self.bufferedLimit {
            self.readHeld = true
        } else {
            context.read()
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is SMTPServerShutdownRequest else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        self.shutdownRequested = true
        promise?.succeed(())
        self.passOnFrames(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.cancelIdleTimer()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.cancelIdleTimer()
    }

    /// Passes on what the buffer holds, up to the next frame that needs a reply. Content
    /// lines that arrived together go on as one piece of up to 64 KiB.
    private func passOnFrames(context: ChannelHandlerContext) {
        var passed = false
        var content: ByteBuffer?
        func passOnContent() {
            guard let pending = content else { return }
            content = nil
            context.fireChannelRead(Self.wrapInboundOut(.content(pending)))
            passed = true
        }
        while !self.awaitingReply {
            if self.shutdownRequested && self.decoder.mode == .command {
                self.awaitingReply = true
                self.cancelIdleTimer()
                context.fireChannelRead(Self.wrapInboundOut(.shutdown))
                passed = true
                break
            }
            guard let frame = self.decoder.next(&self.buffer) else { break }
            self.cancelIdleTimer()
            if case .content(var piece) = frame {
                if content == nil {
                    content = piece
                } else {
                    content?.writeBuffer(&piece)
                }
                if (content?.readableBytes ?? 0) >= Self.bufferedLimit { passOnContent() }
                continue
            }
            passOnContent()
            self.awaitingReply = true
            if case .line(let line) = frame {
                self.startTLSPending = String(decoding: line, as: UTF8.self).trimmingSpaces().uppercased() == "STARTTLS"
            }
            context.fireChannelRead(Self.wrapInboundOut(frame))
            passed = true
        }
        passOnContent()
        if passed { context.fireChannelReadComplete() }
        if !self.awaitingReply && self.idleTimer == nil { self.armIdleTimer(context: context) }
        if self.buffer.readerIndex > Self.bufferedLimit { self.buffer.discardReadBytes() }
        if self.readHeld && !(self.awaitingReply && self.buffer.readableBytes >= Self.bufferedLimit) {
            self.readHeld = false
            context.read()
        }
    }

    private func armIdleTimer(context: ChannelHandlerContext) {
        self.idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.idleTimeout) {
            self.idleTimer = nil
            guard !self.awaitingReply else { return }
            self.awaitingReply = true
            context.fireChannelRead(Self.wrapInboundOut(.idleTimeout))
            context.fireChannelReadComplete()
        }
    }

    private func cancelIdleTimer() {
        self.idleTimer?.cancel()
        self.idleTimer = nil
    }
}
