import KernelSets
import Netlink
import Rules
import Synchronization

extension DropCache {
    /// Finds the families whose cache rules are installed and whose sets exist (`CacheProbe`),
    /// and opens the netlink sockets the cache works through: the writer thread's (adds) and
    /// the publish's and poller's (lists, deletes, mirror). First the ipsets of `rules
    /// install`; where neither cache has a family there, the nf_tables sets of the `rules show
    /// --nft` ruleset (`table inet exitblock`). Nil, with the reasons, when neither backend has
    /// a family of either cache. Starts no program.
    public static func probe(
        _ wanted: Wanted,
        log: @escaping @Sendable (String) -> Void
    ) -> (cache: DropCache?, reason: String) {
        var ipsetReason: String
        do {
            let client = try IpsetClient()
            let found = CacheProbe.ipsets(wanted, client: client, log: log)
            ipsetReason = found.missing.joined(separator: "; ")
            if !found.isEmpty {
                // Used by the writer thread alone; the lock is never contended, it only makes that sound.
                let adder = Mutex(try IpsetClient())
                let cache = make(found, sets: IpsetCacheSetStore(client: client), log: log) { requests in
                    try adder.withLock { client throws(NetlinkError) in try client.add(requests) }
                }
                return (cache, ipsetReason)
            }
        } catch {
            ipsetReason = "\(error)"
        }
        var nftReason = ""
        do {
            let client = try NftSetClient(table: RuleSet.nftablesTable)
            let found = try CacheProbe.nftables(wanted, client: client, log: log)
            nftReason = found.missing.joined(separator: "; ")
            if !found.isEmpty {
                let adder = Mutex(try NftSetClient(table: RuleSet.nftablesTable))
                let cache = make(found, sets: NftCacheSetStore(client: client), log: log) { requests in
                    try adder.withLock { client throws(NetlinkError) in try client.add(requests) }
                }
                return (cache, nftReason)
            }
        } catch {
            nftReason = "\(error)"
        }
        return (nil, "ipsets: \(ipsetReason.isEmpty ? "none" : ipsetReason); nftables: \(nftReason)")
    }

    /// A cache over `sets` whose writer sends through `add`.
    static func make(
        _ found: CacheProbe.Found,
        sets: any CacheSetStore,
        log: @escaping @Sendable (String) -> Void,
        add: @escaping CacheWriter.Sink
    ) -> DropCache {
        let writer = CacheWriter(
            targets: CacheWriter.Targets(
                dropTimeout: found.dropTimeout,
                acceptTimeout: found.acceptTimeout,
                backend: sets.backend,
                countedSets: found.countedSets
            ),
            sink: add,
            log: log
        )
        return DropCache(
            families: found.families,
            acceptFamilies: found.acceptFamilies,
            sets: sets,
            writer: writer,
            log: log
        )
    }
}
