import NIOCore
import NIOHTTP1

/// Answers decoded HTTP/1.1 requests with `StatsRoutes`; keeps the connection open when the
/// client asks for keep-alive (Prometheus does), closes it otherwise.
final class StatsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: StatsRoutes
    private var head: HTTPRequestHead?

    init(routes: StatsRoutes) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            head = request
        case .body:
            break  // No route takes a body; the request guard bounds its size.
        case .end:
            guard let request = head else { return }
            head = nil
            respond(context: context, to: request)
        }
    }

    private func respond(context: ChannelHandlerContext, to request: HTTPRequestHead) {
        let response = routes.respond(method: request.method.rawValue, uri: request.uri)
        let keepAlive = request.isKeepAlive
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Cache-Control", value: "no-store")
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let status = HTTPResponseStatus(statusCode: response.status, reasonPhrase: response.reason)
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))),
            promise: nil
        )
        if request.method != .HEAD {
            var body = context.channel.allocator.buffer(capacity: response.body.count)
            body.writeBytes(response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
