import LinuxSystem
import Testing

@Suite struct CapabilitySetTests {
    @Test func netAdminIsBitTwelve() {
        #expect(CapabilitySet.netAdmin.hex == "0000000000001000")
        #expect(CapabilitySet.netAdmin.description == "cap_net_admin")
        #expect(CapabilitySet([0, 12, 13]).description == "cap_chown,cap_net_admin,cap_net_raw")
        #expect(CapabilitySet.none.description == "none")
        #expect(CapabilitySet([0, 12]).subtracting(.netAdmin) == CapabilitySet([0]))
    }

    @Test func currentReadsThisThread() throws {
        let now = try Privileges.current()
        #expect(now.effective.rawValue & ~now.permitted.rawValue == 0)
        #expect(Privileges.lastCapability >= 36)
    }
}
