import PruneCore

/// Bounds checked on a recipe's text before the YAML parser sees it, so a crafted file cannot overflow the
/// parser's stack (it recurses once per nesting level) or spend minutes and gigabytes before being refused.
enum RecipeLimits {
    /// The largest recipe text, in bytes (real recipes are a few hundred bytes).
    static let maxBytes = 1 << 20
    /// The deepest nesting of block or flow collections (a recipe needs 4).
    static let maxDepth = 64
    /// The most stages one recipe may have.
    static let maxStages = 1_000

    /// Throws when `text` is larger than ``maxBytes`` or nests deeper than ``maxDepth``.
    ///
    /// Depth is counted without parsing: block levels from indentation and `- ` entries, flow levels from
    /// brackets and braces outside quoted scalars. It over-counts rather than under-counts, which is safe.
    static func check(_ text: String, fail: (Int, String) -> PruneError) throws {
        let bytes = text.utf8.count
        guard bytes <= maxBytes else {
            throw fail(1, "the recipe has \(bytes) bytes, more than the \(maxBytes)-byte limit")
        }
        var indents: [Int] = []
        var flow = 0
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let scalars = Array(line.utf8)
            var index = 0
            while index < scalars.count, scalars[index] == UInt8(ascii: " ") { index += 1 }
            if index == scalars.count || scalars[index] == UInt8(ascii: "#") { continue }
            if flow == 0 {
                while let last = indents.last, last >= index { indents.removeLast() }
                indents.append(index)
            }
            var block = indents.count
            // `- - - x` opens one sequence per dash on the same line.
            var position = index
            while position + 1 < scalars.count, scalars[position] == UInt8(ascii: "-"),
                scalars[position + 1] == UInt8(ascii: " ")
            {
                block += 1
                position += 2
                while position < scalars.count, scalars[position] == UInt8(ascii: " ") { position += 1 }
            }
            var quote: UInt8? = nil
            scan: for byte in scalars[position...] {
                if let open = quote {
                    if byte == open { quote = nil }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "'"): quote = byte
                case UInt8(ascii: "["), UInt8(ascii: "{"): flow += 1
                case UInt8(ascii: "]"), UInt8(ascii: "}"): flow = max(0, flow - 1)
                case UInt8(ascii: "#"): break scan
                default: break
                }
                if block + flow > maxDepth {
                    throw fail(lineNumber, "the recipe nests deeper than \(maxDepth) levels")
                }
            }
            if block + flow > maxDepth {
                throw fail(lineNumber, "the recipe nests deeper than \(maxDepth) levels")
            }
        }
    }
}
