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

    /// The table as lines; when a row would be wider than `width`, its last column wraps at spaces onto
    /// continuation lines that start under that column.
    func render(width: Int = TextTable.terminalWidth) -> String {
        var widths = columns.indices.map { c in
            ([columns[c]] + rows.map { c < $0.count ? $0[c] : "" }).map(\.count).max() ?? 0
        }
        let last = columns.count - 1
        let lead = widths.dropLast().reduce(0, +) + 2 * last
        if last > 0, lead + widths[last] > width {
            // Only ever narrower: a short last column that does not fit is left as it is, never padded wider.
            widths[last] = min(widths[last], max(columns[last].count, width - lead, 24))
        }
        // Numbers line up on the right; text (names, shapes, dtypes) reads from the left.
        let numeric = columns.indices.map { c in
            !leftAligned.contains(c) && rows.allSatisfy { c >= $0.count || $0[c].isEmpty || Self.looksNumeric($0[c]) }
        }
        func lines(_ cells: [String]) -> [String] {
            let wrapped = cells.count == columns.count ? Self.wrap(cells[last], width: widths[last]) : [cells.last ?? ""]
            let first = cells.indices.map { c in
                let cell = c == last ? wrapped[0] : cells[c]
                let pad = String(repeating: " ", count: max(0, widths[c] - cell.count))
                return numeric[c] ? pad + cell : cell + pad
            }.joined(separator: "  ")
            let indent = String(repeating: " ", count: lead)
            return [String(first.reversed().drop { $0 == " " }.reversed())] + wrapped.dropFirst().map { indent + $0 }
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return (lines(columns) + [rule] + rows.flatMap(lines)).joined(separator: "\n")
    }

    /// The width tables fit: 100 columns (the terminal's own width is not asked for, so output is the same on a
    /// pipe and in a test).
    static let terminalWidth = 100

    /// `text` broken at spaces into lines of at most `width` characters (a longer word gets a line of its own).
    static func wrap(_ text: String, width: Int) -> [String] {
        guard text.count > width else { return [text] }
        // Leading spaces (an indented line) stay on the first line.
        let indent = String(text.prefix { $0 == " " })
        var lines: [String] = []
        var current = indent
        for word in text.dropFirst(indent.count).split(separator: " ") {
            if current.count == indent.count && lines.isEmpty || current.isEmpty {
                current += String(word)
            } else if current.count + 1 + word.count <= width {
                current += " " + word
            } else {
                lines.append(current)
                current = String(word)
            }
        }
        lines.append(current)
        return lines
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

    /// `1 thing`, `2 things`, `3 batches` (digits grouped).
    static func plural(_ n: Int, _ noun: String) -> String {
        let ending = noun.hasSuffix("ch") || noun.hasSuffix("sh") || noun.hasSuffix("s") || noun.hasSuffix("x") ? "es" : "s"
        return "\(count(n)) \(noun)\(n == 1 ? "" : ending)"
    }

    /// `text` wrapped at spaces to the table width, continuation lines indented by `indent`.
    static func paragraph(_ text: String, indent: Int) -> String {
        let lines = TextTable.wrap(text, width: TextTable.terminalWidth)
        guard lines.count > 1 else { return text }
        let rest = TextTable.wrap(
            lines.dropFirst().joined(separator: " "), width: TextTable.terminalWidth - indent)
        return ([lines[0]] + rest.map { String(repeating: " ", count: indent) + $0 }).joined(separator: "\n")
    }

    /// `n` with its digits grouped (`19,080`), as in every table.
    static func count(_ n: Int) -> String { NumberText.grouped(n) }

    static func shape(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }

    static func seconds(_ s: Double) -> String {
        s < 1 ? String(format: "%.0f ms", s * 1000) : String(format: "%.2f s", s)
    }
}
