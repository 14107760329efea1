import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Parses text as XML with Foundation's `XMLParser` and records what the tests look at.
final class XMLCheck: NSObject, XMLParserDelegate {
    /// Every element in document order, with its attributes.
    private(set) var elements: [(name: String, attributes: [String: String])] = []
    /// Text inside elements, concatenated per element name.
    private(set) var text: [String: String] = [:]
    private var stack: [String] = []
    /// The parser's error, when the document is not well-formed.
    private(set) var error: (any Error)?

    /// Parses `document`; `error` is set when it is not well-formed.
    init(_ document: String) {
        super.init()
        let parser = XMLParser(data: Data(document.utf8))
        parser.delegate = self
        if !parser.parse() { error = parser.parserError ?? NSError(domain: "XMLCheck", code: 1) }
    }

    /// The elements named `name` whose `class` attribute is `className` (any when nil).
    func elements(named name: String, class className: String? = nil) -> [[String: String]] {
        elements.filter { $0.name == name && (className == nil || $0.attributes["class"] == className) }.map(\.attributes)
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        elements.append((elementName, attributes))
        stack.append(elementName)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        stack.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let top = stack.last { text[top, default: ""] += string }
    }
}
