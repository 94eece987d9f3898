import ArgumentParser
import Engine

extension FilterMode: ExpressibleByArgument {}
