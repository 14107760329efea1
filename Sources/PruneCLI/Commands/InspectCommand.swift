import ArgumentParser
import Foundation
import PruneKit

/// `prune inspect`: every tensor of a model with its shape, size and sparsity.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Show a model's tensors, their sizes and sparsity, and totals.")

    @Argument(help: "The model file (.safetensors or .onnx).")
    var model: String

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    @Flag(help: "Print the dependency groups structured pruning would use (ONNX models).")
    var groups = false

    @Option(help: "With --groups: names (regular expressions) whose groups are protected (repeatable).")
    var ignore: [String] = []

    @Flag(help: "With --groups: offer a transformer's hidden width (the residual stream) as a group; refused by default.")
    var includeHiddenWidth = false

    @Flag(
        name: .customLong("head-dims"),
        help: "With --groups: offer each attention block's Q/K and V/O head dimensions instead of whole heads.")
    var headDimensions = false

    @OptionGroup var execution: ThreadOptions

    func run() throws {
        let document = try ModelFiles.open(URL(fileURLWithPath: model))
        Warnings.print(document.warnings)
        if groups {
            let analysis = try StructureAnalysis(
                model: document.model, ignoring: ignore, includingHiddenWidth: includeHiddenWidth,
                headDimensions: headDimensions)
            print(json ? try GroupsListing.json(analysis) : GroupsListing.text(analysis))
            return
        }
        let parameters = document.model.parameters
        let zeros = try ParallelFor.map(parameters.count, threads: execution.threadCount) { i in
            defer { parameters[i].tensor.releaseResidentPages() }
            return parameters[i].tensor.zeroCount()
        }
        let inspection = ModelInspection(
            path: model, format: document.formatName, fileBytes: document.fileSize,
            tensors: zip(parameters, zeros).map { parameter, zeroCount in
                ModelInspection.Tensor(
                    name: parameter.name, dtype: parameter.tensor.dtype.rawValue, shape: parameter.tensor.shape,
                    parameters: parameter.tensor.elementCount, zeros: zeroCount, candidate: parameter.layout != nil)
            },
            metadata: document.model.metadata, sections: document.inspectionSections())
        if json {
            print(try inspection.jsonText())
        } else {
            print(inspection.text())
        }
    }
}

/// What `prune inspect` reports, as a value that prints as text or JSON.
struct ModelInspection: Codable {
    struct Tensor: Codable {
        var name: String
        var dtype: String
        var shape: [Int]
        var parameters: Int
        var zeros: Int
        /// Whether the default candidate rule picks it (a layer weight).
        var candidate: Bool
        var sparsity: Double { parameters == 0 ? 0 : Double(zeros) / Double(parameters) }
    }

    var path: String
    var format: String
    var fileBytes: Int
    var tensors: [Tensor]
    var metadata: [String: String]
    var sections: [InspectionSection]

    var parameterCount: Int { tensors.reduce(0) { $0 + $1.parameters } }
    var zeroCount: Int { tensors.reduce(0) { $0 + $1.zeros } }

    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    func text() -> String {
        var table = TextTable(columns: ["tensor", "dtype", "shape", "parameters", "sparsity", "candidate"])
        for tensor in tensors {
            table.add([
                tensor.name, tensor.dtype, Format.shape(tensor.shape), Format.count(tensor.parameters),
                Format.percent(tensor.sparsity), tensor.candidate ? "yes" : "",
            ])
        }
        // Formats that describe their tensors themselves (ONNX: storage, consumers, layout) replace the table.
        let describesTensors = sections.contains { $0.title == "Initializers" }
        var lines = ["\(path) (\(format), \(Format.bytes(fileBytes)))", ""]
        if !describesTensors { lines += [table.render(), ""] }
        let sparsity = parameterCount == 0 ? 0 : Double(zeroCount) / Double(parameterCount)
        lines.append(
            "\(Format.plural(tensors.count, "tensor")), \(Format.plural(parameterCount, "parameter")), "
                + "\(Format.plural(zeroCount, "zero")) (\(Format.percent(sparsity))), "
                + Format.plural(tensors.filter(\.candidate).count, "pruning candidate"))
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            lines.append("metadata \(key): \(value)")
        }
        for section in sections {
            var sectionTable = TextTable(columns: section.columns)
            section.rows.forEach { sectionTable.add($0) }
            lines += ["", section.title, sectionTable.render()]
        }
        return lines.joined(separator: "\n")
    }
}
