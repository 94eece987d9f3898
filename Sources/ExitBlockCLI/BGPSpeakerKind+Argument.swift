import ArgumentParser
import BGPFeed

extension BGPSpeakerKind: ExpressibleByArgument {}

extension RouteStyle: ExpressibleByArgument {}
