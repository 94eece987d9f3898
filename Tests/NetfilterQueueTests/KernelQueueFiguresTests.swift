import NetfilterQueue
import Testing

@Suite struct KernelQueueFiguresTests {
    @Test func parsesTheProcTable() {
        let text = """
                0  41234     3 2    64     5    17   9001 1
              12 3000000000   0 2 65535     0     0 4294967295 1
            garbage line
            """
        let figures = KernelQueueFigures.parse(text)
        #expect(figures.count == 2)
        #expect(
            figures[0]
                == KernelQueueFigures(
                    queue: 0,
                    portID: 41234,
                    waiting: 3,
                    copyMode: 2,
                    copyRange: 64,
                    queueDropped: 5,
                    userDropped: 17,
                    lastID: 9001
                )
        )
        #expect(figures[1].queue == 12)
        #expect(figures[1].portID == 3_000_000_000)
        #expect(figures[1].lastID == UInt32.max)
    }
}
