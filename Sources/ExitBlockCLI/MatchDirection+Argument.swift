import ArgumentParser
import Engine
import Rules

extension MatchDirection: ExpressibleByArgument {}
