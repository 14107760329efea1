import Foundation
import PruneKit

/// `prune inspect --groups`: each dependency group with its units, coupled tensors and axes, and why it is
/// excluded.
enum GroupsListing {
    struct Entry: Codable {
        var name: String
        var units: Int
        var prunable: Bool
        var excluded: String?
        /// `parameter[axis, offset + u·width]`, scored members marked with `*`.
        var tensors: [String]
        var activations: [String]
    }

    static func entries(_ analysis: StructureAnalysis) -> [Entry] {
        analysis.groups.map { group in
            Entry(
                name: group.name, units: group.unitCount, prunable: group.isPrunable, excluded: group.exclusion,
                tensors: group.members.map {
                    describe(
                        $0.slice.parameter, $0.slice.axis, $0.slice.offset, $0.slice.width, $0.repeats, $0.stride)
                        + ($0.scored ? "*" : "")
                },
                activations: group.activations.map {
                    describe($0.value, $0.axis, $0.offset, $0.width, $0.repeats, $0.stride)
                })
        }
    }

    /// One row per group, fitting 100 columns: the coupled tensors (and, for an excluded group, why) wrap under
    /// their column.
    static func text(_ analysis: StructureAnalysis) -> String {
        var table = TextTable(columns: ["group", "units", "status", "coupled tensors (axis:units; * = scored)"])
        for entry in entries(analysis) {
            table.add([
                entry.name, Format.count(entry.units), entry.excluded == nil ? "prunable" : "excluded",
                (entry.tensors + (entry.excluded.map { ["(excluded: \($0))"] } ?? [])).joined(separator: " "),
            ])
        }
        let prunable = analysis.groups.filter(\.isPrunable)
        return table.render() + "\n\(Format.plural(analysis.groups.count, "group")), "
            + "\(Format.count(prunable.count)) prunable, "
            + "\(Format.plural(prunable.reduce(0) { $0 + $1.unitCount }, "prunable unit"))"
    }

    static func json(_ analysis: StructureAnalysis) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(entries(analysis)), as: UTF8.self)
    }

    /// `name[axis:offset+width·u]`; a slice repeated across convolution groups adds `+stride·k (k<repeats)`, or
    /// `×repeats` when the same slice counts several times.
    private static func describe(
        _ name: String, _ axis: Int, _ offset: Int, _ width: Int, _ repeats: Int = 1, _ stride: Int = 0
    ) -> String {
        var position = (offset == 0 ? "" : "\(offset)+") + (width == 1 ? "u" : "\(width)u")
        if repeats > 1 { position += stride == 0 ? "×\(repeats)" : "+\(stride)k(k<\(repeats))" }
        return "\(name)[\(axis):\(position)]"
    }
}
