/// One self-contained HTML page: headings, paragraphs, tables and charts (inline SVG), with its style inline, so
/// the file can be mailed, archived or opened offline without any other asset.
///
/// ```swift
/// var page = HTMLPage(title: "Sensitivity of model.onnx")
/// page.add(.paragraph("agreement with the dense model"))
/// page.add(.chart(chart.element(), caption: "fidelity per group"))
/// page.add(.table(header: ["group", "units"], rows: [["conv1", "16"]]))
/// let html = page.render()
/// ```
public struct HTMLPage: Sendable {
    /// One block of the page, in document order.
    public enum Block: Sendable {
        /// A section heading.
        case heading(String)
        /// A paragraph of plain text.
        case paragraph(String)
        /// A chart, drawn inline, with a caption.
        case chart(SVGElement, caption: String)
        /// A table: a header row, then rows of cells (numbers are right-aligned).
        case table(header: [String], rows: [[String]])
    }

    /// The page's title (also its first heading).
    public var title: String
    /// The blocks after the title.
    public var blocks: [Block]

    /// Creates a page.
    public init(title: String, blocks: [Block] = []) {
        self.title = title
        self.blocks = blocks
    }

    /// Appends `block`.
    public mutating func add(_ block: Block) { blocks.append(block) }

    static let style = """
        body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
        h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
        table{border-collapse:collapse;margin:1em 0;font-size:.9em}
        th,td{border:1px solid #ccc;padding:.25em .6em}th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
        figure{margin:1em 0;overflow-x:auto}figcaption{color:#555;font-size:.9em}
        """

    /// The page as XHTML-compatible HTML5 text (well-formed XML, so it can also be checked as XML).
    public func render() -> String {
        var out = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
        out += "<meta charset=\"utf-8\"/>\n<title>\(XMLText.escaped(title))</title>\n"
        out += "<style>\n\(Self.style)\n</style>\n</head>\n<body>\n"
        out += "<h1>\(XMLText.escaped(title))</h1>\n"
        for block in blocks {
            switch block {
            case .heading(let text):
                out += "<h2>\(XMLText.escaped(text))</h2>\n"
            case .paragraph(let text):
                out += "<p>\(XMLText.escaped(text))</p>\n"
            case .chart(let svg, let caption):
                out += "<figure>\n" + svg.rendered(indent: 1)
                out += "<figcaption>\(XMLText.escaped(caption))</figcaption>\n</figure>\n"
            case .table(let header, let rows):
                out += "<table>\n<thead><tr>"
                out += header.map { "<th>\(XMLText.escaped($0))</th>" }.joined()
                out += "</tr></thead>\n<tbody>\n"
                for row in rows {
                    out += "<tr>"
                    out += row.map { cell in
                        let numeric = cell.first.map { $0.isNumber || $0 == "-" } == true && cell.count > 0
                            && cell != "-"
                        return (numeric ? "<td class=\"num\">" : "<td>") + XMLText.escaped(cell) + "</td>"
                    }.joined()
                    out += "</tr>\n"
                }
                out += "</tbody>\n</table>\n"
            }
        }
        out += "</body>\n</html>\n"
        return out
    }
}
