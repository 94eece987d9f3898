import ArgumentParser
import ExitSet

extension ListFormat: ExpressibleByArgument {}
