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
                    describe($0.slice.parameter, $0.slice.axis, $0.slice.offset, $0.slice.width)
                        + ($0.scored ? "*" : "")
                },
                activations: group.activations.map { describe($0.value, $0.axis, $0.offset, $0.width) })
        }
    }

    static func text(_ analysis: StructureAnalysis) -> String {
        var table = TextTable(columns: ["group", "units", "status", "coupled tensors (axis; * = scored)"])
        for entry in entries(analysis) {
            table.add([
                entry.name, String(entry.units), entry.excluded.map { "excluded: \($0)" } ?? "prunable",
                entry.tensors.joined(separator: " "),
            ])
        }
        let prunable = analysis.groups.filter(\.isPrunable)
        return table.render() + "\n\(analysis.groups.count) groups, \(prunable.count) prunable, "
            + "\(prunable.reduce(0) { $0 + $1.unitCount }) prunable units"
    }

    static func json(_ analysis: StructureAnalysis) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(entries(analysis)), as: UTF8.self)
    }

    private static func describe(_ name: String, _ axis: Int, _ offset: Int, _ width: Int) -> String {
        let position = (offset == 0 ? "" : "\(offset)+") + (width == 1 ? "u" : "\(width)u")
        return "\(name)[\(axis):\(position)]"
    }
}
