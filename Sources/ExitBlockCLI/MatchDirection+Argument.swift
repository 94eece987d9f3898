import ArgumentParser
import ExitBlock
import Rules

extension MatchDirection: ExpressibleByArgument {}
