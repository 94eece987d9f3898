import NIOCore

/// First handler of every stats connection, on raw bytes: bounds what one client can cost.
///
/// - A request (head and body) larger than `maxRequestBytes` gets a 413 and the connection
///   is closed; its bytes are not buffered.
/// - A client must complete each request within `timeout` of the connection opening or of
///   the previous response, or the connection is closed: silent clients, slow-drip clients
///   and idle keep-alive connections all end there.
///
/// The byte count and the deadline restart when a response is written.
final class StatsRequestGuard: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let maxRequestBytes: Int
    private let timeout: TimeAmount
    private var received = 0
    private var deadline: Scheduled<Void>?
    private var refused = false

    init(maxRequestBytes: Int, timeout: TimeAmount) {
        self.maxRequestBytes = maxRequestBytes
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armDeadline(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        armDeadline(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        let buffer = unwrapInboundIn(data)
        received += buffer.readableBytes
        guard received <= maxRequestBytes else {
            refused = true
            var answer = context.channel.allocator.buffer(capacity: 160)
            let body = "request too large: at most \(maxRequestBytes) bytes\n"
            answer.writeString(
                "HTTP/1.1 413 Content Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            )
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(answer))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
            return
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // A response is on its way: the request it answers is complete.
        received = 0
        armDeadline(context)
        context.write(data, promise: promise)
    }

    private func armDeadline(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            context.close(promise: nil)
        }
    }
}
