import Gateway
import Testing

@Suite("Gateway module")
struct GatewayModuleTests {
    @Test("the gateway module links")
    func links() {
        _ = GatewayModule.self
    }
}
