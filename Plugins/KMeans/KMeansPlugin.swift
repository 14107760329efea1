import CPrunePlugin

// The KMeans plugin: registration and the C entry points. The algorithm is in KMeans.swift.

/// The descriptor, built once on first use.
nonisolated(unsafe) private let descriptor = makeDescriptor(
    name: "kmeans", version: "1.0.0",
    description:
        "Clusters each layer's units by their weight vectors (seeded k-means) and scores each unit by how well its cluster stands in for it.",
    license: "Apache-2.0", initialize: kmeansInit)

/// The one symbol the host looks up.
@_cdecl("prune_plugin_entry")
public func pruneKMeansEntry() -> UnsafePointer<prune_plugin_descriptor>? { descriptor }

/// Registers the scorer.
private func kmeansInit(_ host: UnsafePointer<prune_host_api>?, _ ctx: OpaquePointer?) -> prune_status {
    guard let host else { return PRUNE_ERR_INVALID_ARGUMENT }
    let function: @convention(c) (UnsafeMutablePointer<prune_score_request>?, Int64, Int64, Int64) -> prune_status =
        kmeansScore
    var component = makeComponent(
        name: "kmeans",
        summary: "leave-one-out distance to the unit's k-means cluster: near-duplicates in large clusters go first",
        parameters: "k:i64[1..]=8,seed:i64=-1,iterations:i64[1..]=50",
        function: unsafeBitCast(function, to: prune_fn.self))
    return host.pointee.register_scorer(ctx, &component)
}

/// The scorer: `prune_status kmeans_score(const prune_score_request *, int64_t k, int64_t seed, int64_t iterations)`.
///
/// `seed` -1 means the run's seed.
private func kmeansScore(
    _ request: UnsafeMutablePointer<prune_score_request>?, _ k: Int64, _ seed: Int64, _ iterations: Int64
) -> prune_status {
    guard let request, let target = request.pointee.target else { return PRUNE_ERR_INVALID_ARGUMENT }
    let host = request.pointee.host.pointee
    var units = prune_tensor_view()
    if target.pointee.granularity == PRUNE_GRANULARITY_UNIT {
        units = target.pointee.tensor
    } else {
        guard target.pointee.output_axis >= 0 else {
            return fail(request, PRUNE_ERR_UNSUPPORTED, "kmeans scores units: the tensor needs an output axis")
        }
        let status = host.get_units(request.pointee.ctx, &units)
        guard status == PRUNE_OK else { return status }
    }
    // Nothing below may trap (a trap would take the host down): check every assumption first.
    guard units.rank == 2, let shape = units.shape, let data = units.data?.assumingMemoryBound(to: Float.self),
        let scores = request.pointee.scores
    else { return fail(request, PRUNE_ERR_INVALID_ARGUMENT, "kmeans: no unit matrix") }
    let count = Int(shape[0])
    let dim = Int(shape[1])
    guard dim > 0 else { return fail(request, PRUNE_ERR_UNSUPPORTED, "kmeans: units without weights") }
    let rows = UnsafeBufferPointer(start: data, count: count * dim)
    let runSeed = seed < 0 ? request.pointee.seed : UInt64(seed)
    let clustering = KMeans(rows: rows, dim: dim, clusters: Int(k), seed: runSeed, iterations: Int(iterations))
    let unitScores = clustering.leaveOneOutDistances()

    if target.pointee.granularity == PRUNE_GRANULARITY_UNIT {
        for u in 0..<count { scores[u] = Float(unitScores[u]) }
    } else {
        withUnsafePointer(to: target.pointee.tensor) { view in
            for e in 0..<Int(target.pointee.score_count) {
                scores[e] = Float(unitScores[Int(prune_index_along(view, target.pointee.output_axis, Int64(e)))])
            }
        }
    }
    return PRUNE_OK
}
