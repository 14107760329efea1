/// What an observer learns about the node that just ran.
public struct NodeInfo: Sendable {
    /// The node's position in execution order.
    public let index: Int
    /// The node's name (may be empty in the file).
    public let name: String
    /// The ONNX operator type, for example `Conv`.
    public let opType: String
    /// Input value names in order; an empty name is an omitted optional input.
    public let inputNames: [String]
    /// Output value names in order.
    public let outputNames: [String]
}

/// Watches nodes run: called once per node execution, right after the node computed its outputs.
///
/// The tensors are valid for the call and may be kept, but keeping them keeps their memory alive (and out of the
/// interpreter's buffer pool: storage is recycled only once no tensor refers to it, so a kept tensor is never
/// overwritten); the interpreter frees each intermediate as soon as its last consumer ran, so an observer that
/// only accumulates statistics keeps memory bounded. With an observer, every node runs as written (no fusion).
public protocol NodeObserver: AnyObject {
    /// Whether to call ``observe(node:inputs:outputs:)`` for `node`; the default observes every node.
    func wantsToObserve(_ node: NodeInfo) -> Bool
    /// Sees a node's inputs (nil for omitted optional inputs) and outputs after it ran.
    ///
    /// - Throws: any error, which stops the run and is rethrown by ``Interpreter/run(_:observer:)``.
    func observe(node: NodeInfo, inputs: [RuntimeTensor?], outputs: [RuntimeTensor]) throws
}

extension NodeObserver {
    /// Observes every node.
    public func wantsToObserve(_ node: NodeInfo) -> Bool { true }
}
