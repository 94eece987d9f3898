import ServiceLifecycle

/// A service of the daemon's group, named by its type. ServiceLifecycle keeps a name for
/// each service, `"\(service)"`; without a description, that walks the service by reflection
/// when the group is built (about 4 million instructions at each start).
protocol DaemonService: Service, CustomStringConvertible {}

extension DaemonService {
    var description: String { _typeName(Self.self, qualified: false) }
}
