import ArgumentParser
import ExitBlock

extension FilterMode: ExpressibleByArgument {}
