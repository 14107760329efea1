import Foundation
import PruneKit

/// A plain-text table for terminal output: numeric columns right-aligned, text left-aligned.
struct TextTable {
    var columns: [String]
    var rows: [[String]] = []
    /// Columns (by index) always aligned left; the others are right-aligned when every cell is a number.
    var leftAligned: Set<Int> = [0]

    init(columns: [String], leftAligned: Set<Int> = [0]) {
        self.columns = columns
        self.leftAligned = leftAligned
    }

    mutating func add(_ row: [String]) { rows.append(row.map(PrintableText.escaped)) }

    /// Whether a cell is a number, possibly with a unit: `1,234`, `7.64%`, `-0.5`, `0.825 ms`.
    static func looksNumeric(_ cell: String) -> Bool {
        let body = cell.hasPrefix("-") ? cell.dropFirst() : Substring(cell)
        return body.first?.isNumber == true
    }

    func render() -> String {
        let widths = columns.indices.map { c in
            ([columns[c]] + rows.map { c < $0.count ? $0[c] : "" }).map(\.count).max() ?? 0
        }
        // Numbers line up on the right; text (names, shapes, dtypes) reads from the left.
        let numeric = columns.indices.map { c in
            !leftAligned.contains(c) && rows.allSatisfy { c >= $0.count || $0[c].isEmpty || Self.looksNumeric($0[c]) }
        }
        func line(_ cells: [String]) -> String {
            cells.indices.map { c in
                let pad = String(repeating: " ", count: widths[c] - cells[c].count)
                return numeric[c] ? pad + cells[c] : cells[c] + pad
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(columns), rule] + rows.map(line)).joined(separator: "\n")
    }
}

/// Number formatting shared by the commands.
enum Format {
    static func percent(_ fraction: Double) -> String {
        String(format: "%.2f%%", fraction * 100)
    }

    static func bytes(_ count: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// `1 thing`, `2 things` (digits grouped).
    static func plural(_ n: Int, _ noun: String) -> String { "\(count(n)) \(noun)\(n == 1 ? "" : "s")" }

    static func count(_ n: Int) -> String {
        var digits = Array(String(n.magnitude))
        var groups: [String] = []
        while digits.count > 3 {
            groups.insert(String(digits.suffix(3)), at: 0)
            digits.removeLast(3)
        }
        groups.insert(String(digits), at: 0)
        return (n < 0 ? "-" : "") + groups.joined(separator: ",")
    }

    static func shape(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }

    static func seconds(_ s: Double) -> String {
        s < 1 ? String(format: "%.0f ms", s * 1000) : String(format: "%.2f s", s)
    }
}
