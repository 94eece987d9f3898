import ArgumentParser
import ExitBlock

extension MatchDirection: ExpressibleByArgument {}
