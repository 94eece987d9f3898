import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix

/// Fetches URL sources with AsyncHTTPClient on one event loop thread of its own.
///
/// Limits: a connect timeout and a read timeout (the longest silence between two reads), both
/// at most `timeout`, and an overall deadline of `timeout` for the whole exchange; the body is
/// streamed and abandoned as soon as it passes `maximumBytes` (a Content-Length over the limit
/// is refused before any body byte). A body shorter than its Content-Length is `truncated`.
/// Redirects are followed (at most 5). No cookies, no compression.
public final class HTTPListFetcher: ListFetching {
    private let group: MultiThreadedEventLoopGroup
    private let client: HTTPClient
    /// The overall deadline of one fetch, in seconds.
    public let timeout: Double
    public let maximumBytes: Int
    private let userAgent: String

    public init(timeout: Double, maximumBytes: Int, userAgent: String) {
        self.timeout = timeout
        self.maximumBytes = maximumBytes
        self.userAgent = userAgent
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let connect = TimeAmount.milliseconds(Int64(min(timeout, 10) * 1000))
        let read = TimeAmount.milliseconds(Int64(min(timeout, 20) * 1000))
        let configuration = HTTPClient.Configuration(
            tlsConfiguration: nil,
            redirectConfiguration: .follow(max: 5, allowCycles: false),
            timeout: HTTPClient.Configuration.Timeout(connect: connect, read: read),
            connectionPool: HTTPClient.Configuration.ConnectionPool(idleTimeout: .seconds(30)),
            proxy: nil
        )
        client = HTTPClient(eventLoopGroup: group, configuration: configuration)
    }

    public func fetch(_ url: String, conditional: ConditionalRequest) async throws(SourceError) -> FetchOutcome {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: userAgent)
        request.headers.add(name: "Accept-Encoding", value: "identity")
        for (name, value) in conditional.requestHeaders { request.headers.add(name: name, value: value) }
        let deadline = NIODeadline.now() + .milliseconds(Int64(timeout * 1000))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: deadline)
        } catch {
            throw Self.map(error, received: nil, expected: nil, timeout: timeout)
        }
        let validators = ConditionalRequest(responseHeaders: response.headers.map { ($0.name, $0.value) })
        if response.status == .notModified { return .notModified(validators) }
        guard (200..<300).contains(response.status.code) else { throw .httpStatus(Int(response.status.code)) }
        let expected = response.headers.first(name: "content-length").flatMap { Int($0.trimmingSpaces()) }
        if let expected, expected > maximumBytes { throw .tooLarge(limit: maximumBytes) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(expected ?? 65536, maximumBytes))
        do {
            for try await chunk in response.body {
                guard bytes.count + chunk.readableBytes <= maximumBytes else {
                    throw SourceError.tooLarge(limit: maximumBytes)
                }
                bytes.append(contentsOf: chunk.readableBytesView)
            }
        } catch let error as SourceError {
            throw error
        } catch {
            throw Self.map(error, received: bytes.count, expected: expected, timeout: timeout)
        }
        if let expected, bytes.count < expected { throw .truncated(expected: expected, received: bytes.count) }
        return .content(bytes, validators)
    }

    public func shutdown() async {
        try? await client.shutdown()
        try? await group.shutdownGracefully()
    }

    /// The client's and NIO's errors as ours. `received` is nil before the head arrived.
    static func map(_ error: any Error, received: Int?, expected: Int?, timeout: Double) -> SourceError {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded:
                return .timeout("no complete answer within \(DurationText.format(timeout)) (--fetch-timeout)")
            case .readTimeout: return .timeout("the server stopped sending (read timeout)")
            case .connectTimeout: return .timeout("could not connect in time")
            case .remoteConnectionClosed, .bodyLengthMismatch:
                if let received { return .truncated(expected: expected, received: received) }
                return .connection("the server closed the connection")
            case .cancelled: return .connection("cancelled")
            default: return .connection("\(error)")
            }
        }
        if let error = error as? HTTPParserError, let received {
            if case .invalidEOFState = error { return .truncated(expected: expected, received: received) }
            return .connection("bad HTTP: \(error)")
        }
        if let received { return .truncated(expected: expected, received: received) }
        return .connection("\(error)")
    }
}
