@testable import PruneCore
import Testing

@Suite("Why nothing could be pruned")
struct PassedOverReasonTests {
    @Test("Exclusion reasons are counted by kind, the node's name left out, most frequent first")
    func reasonsAreCountedByKind() {
        let text = Pipeline.countedReasons([
            "node 'a' (Pad): the structure analysis does not understand this operator",
            "its channels reach the graph output 'y'",
            "node 'b' (Pad): the structure analysis does not understand this operator",
            "node 'c' (Add): operand ranks are unknown",
            "node 'd' (Pad): the structure analysis does not understand this operator",
        ])
        #expect(
            text == "3 × (Pad): the structure analysis does not understand this operator; "
                + "1 × its channels reach the graph output 'y'; 1 × (Add): operand ranks are unknown")
    }
}
