/// One element of an SVG (or XHTML) document: a name, attributes in the order given, and children.
///
/// The builder every chart draws with. Text and attribute values are escaped when rendered, so names taken from a
/// model (`a<b`, `x&y`, quotes) can never break the document.
///
/// ```swift
/// let dot = SVGElement("circle", ["cx": "10", "cy": "10", "r": "3", "fill": "#1f77b4"])
/// let svg = SVGElement("svg", ["xmlns": SVGElement.namespace, "width": "20", "height": "20"], [.element(dot)])
/// print(svg.rendered())
/// ```
public struct SVGElement: Sendable, Hashable {
    /// A child: another element or text.
    public enum Node: Sendable, Hashable {
        /// A nested element.
        case element(SVGElement)
        /// Character data (escaped when rendered).
        case text(String)
    }

    /// The SVG namespace, for the root element's `xmlns`.
    public static let namespace = "http://www.w3.org/2000/svg"

    /// The element's name (`svg`, `g`, `path`, `text`, …).
    public var name: String
    /// Attributes in the order they are written.
    public var attributes: [Attribute]
    /// Children in document order.
    public var children: [Node]

    /// One attribute.
    public struct Attribute: Sendable, Hashable {
        /// The attribute's name.
        public var name: String
        /// Its value, unescaped.
        public var value: String
    }

    /// Creates an element.
    public init(_ name: String, _ attributes: KeyValuePairs<String, String> = [:], _ children: [Node] = []) {
        self.name = name
        self.attributes = attributes.map { Attribute(name: $0.key, value: $0.value) }
        self.children = children
    }

    /// A `<text>` element holding `content`.
    public static func text(_ content: String, _ attributes: KeyValuePairs<String, String> = [:]) -> SVGElement {
        SVGElement("text", attributes, [.text(content)])
    }

    /// Sets (or adds) attribute `name`.
    public mutating func set(_ name: String, _ value: String) {
        if let index = attributes.firstIndex(where: { $0.name == name }) {
            attributes[index].value = value
        } else {
            attributes.append(Attribute(name: name, value: value))
        }
    }

    /// Appends `child`.
    public mutating func append(_ child: SVGElement) { children.append(.element(child)) }

    /// The value of attribute `name`, if set.
    public func attribute(_ name: String) -> String? { attributes.first { $0.name == name }?.value }

    /// The element as XML text, children indented by two spaces per level.
    public func rendered(indent: Int = 0) -> String {
        var out = ""
        write(to: &out, indent: indent)
        return out
    }

    private func write(to out: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent)
        out += pad + "<" + name
        for attribute in attributes { out += " \(attribute.name)=\"\(XMLText.escaped(attribute.value))\"" }
        if children.isEmpty {
            out += "/>\n"
            return
        }
        // Elements that hold only text stay on one line, so renderers see no stray whitespace.
        if children.allSatisfy({ if case .text = $0 { true } else { false } }) {
            out += ">"
            for case .text(let text) in children { out += XMLText.escaped(text) }
            out += "</\(name)>\n"
            return
        }
        out += ">\n"
        for child in children {
            switch child {
            case .element(let element): element.write(to: &out, indent: indent + 1)
            case .text(let text): out += pad + "  " + XMLText.escaped(text) + "\n"
            }
        }
        out += pad + "</\(name)>\n"
    }
}

/// Escaping for XML text and attribute values.
public enum XMLText {
    /// `text` with `&`, `<`, `>`, `"` and `'` replaced by entities and control characters (not allowed in XML 1.0)
    /// replaced by U+FFFD.
    public static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value):
                out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// Numbers as SVG coordinates: at most two decimals, no trailing zeros, never `-0`.
enum SVGNumber {
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 100).rounded() / 100
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        var text = String(format: "%.2f", rounded)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}
