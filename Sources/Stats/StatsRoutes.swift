/// The stats server's answers, as a pure function of the request line and a snapshot source:
/// testable without a socket.
public struct StatsRoutes: Sendable {
    /// One answer.
    public struct Response: Sendable, Equatable {
        public var status: Int
        public var reason: String
        public var contentType: String
        public var body: [UInt8]
        /// Extra header fields.
        public var headers: [(String, String)] = []

        public static func == (lhs: Response, rhs: Response) -> Bool {
            lhs.status == rhs.status && lhs.contentType == rhs.contentType && lhs.body == rhs.body
        }

        /// A plain-text answer.
        static func text(_ status: Int, _ reason: String, _ message: String) -> Response {
            Response(
                status: status,
                reason: reason,
                contentType: "text/plain; charset=utf-8",
                body: Array((message + "\n").utf8)
            )
        }
    }

    /// Reads the figures; called on an event loop thread once per request.
    public let snapshot: @Sendable () -> MetricsSnapshot

    /// Explains one address from the set in force (`/explain`); nil: the route answers 404.
    public let explain: ExplainRoute?

    public init(snapshot: @escaping @Sendable () -> MetricsSnapshot, explain: ExplainRoute? = nil) {
        self.snapshot = snapshot
        self.explain = explain
    }

    /// The paths served.
    public static let paths = ["/metrics", "/stats", "/healthz", ExplainRoute.path]

    /// Answers `method` on `uri` (a query string is ignored).
    public func respond(method: String, uri: String) -> Response {
        let path =
            uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        guard Self.paths.contains(path), path != ExplainRoute.path || explain != nil else {
            return .text(404, "Not Found", "not found: \(path); try /metrics, /stats or /healthz")
        }
        guard method == "GET" || method == "HEAD" else {
            var response = Response.text(405, "Method Not Allowed", "method \(method) not allowed; use GET")
            response.headers = [("Allow", "GET, HEAD")]
            return response
        }
        if path == ExplainRoute.path, let explain { return explain.respond(uri: uri) }
        let figures = snapshot()
        switch path {
        case "/metrics":
            return Response(
                status: 200,
                reason: "OK",
                contentType: PrometheusExposition.contentType,
                body: PrometheusExposition(figures).bytes
            )
        case "/stats":
            return Response(
                status: 200,
                reason: "OK",
                contentType: StatsJSON.contentType,
                body: StatsJSON(figures).bytes
            )
        default:
            let problems = figures.problems
            let warnings = figures.warnings.map { "; warning: " + $0 }.joined()
            if problems.isEmpty { return .text(200, "OK", "ok" + warnings) }
            return .text(503, "Service Unavailable", "unhealthy: " + problems.joined(separator: "; ") + warnings)
        }
    }
}
