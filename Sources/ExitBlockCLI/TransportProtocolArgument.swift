import ArgumentParser

/// `--protocol` of `check`: the transport of ADDRESS:PORT.
enum TransportProtocolArgument: String, ExpressibleByArgument, CaseIterable {
    case tcp
    case udp
}
