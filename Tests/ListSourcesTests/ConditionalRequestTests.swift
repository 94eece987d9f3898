import ListSources
import Testing

@Suite struct ConditionalRequestTests {
    @Test func readsValidatorsFromResponseHeadersInAnyCase() {
        let validators = ConditionalRequest(responseHeaders: [
            ("Content-Type", "text/plain"), ("etag", "\"v1\""), ("LAST-MODIFIED", " Tue, 01 Jul 2025 10:00:00 GMT "),
        ])
        #expect(validators == ConditionalRequest(etag: "\"v1\"", lastModified: "Tue, 01 Jul 2025 10:00:00 GMT"))
        #expect(ConditionalRequest(responseHeaders: [("ETag", "  ")]).isEmpty)
    }

    @Test func requestHeadersAskForAConditionalAnswer() {
        #expect(ConditionalRequest().requestHeaders.isEmpty)
        let both = ConditionalRequest(etag: "W/\"x\"", lastModified: "Tue, 01 Jul 2025 10:00:00 GMT")
        let headers = both.requestHeaders.map { "\($0.0): \($0.1)" }
        #expect(headers == ["If-None-Match: W/\"x\"", "If-Modified-Since: Tue, 01 Jul 2025 10:00:00 GMT"])
        #expect(ConditionalRequest(lastModified: "d").requestHeaders.map(\.0) == ["If-Modified-Since"])
    }

    @Test func aNotModifiedAnswerMayRefreshTheValidators() {
        let held = ConditionalRequest(etag: "\"v1\"", lastModified: "old")
        #expect(held.updated(byNotModified: ConditionalRequest()) == held)
        #expect(
            held.updated(byNotModified: ConditionalRequest(etag: "\"v2\""))
                == ConditionalRequest(etag: "\"v2\"", lastModified: "old")
        )
    }
}
