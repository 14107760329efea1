import Foundation
import ONNXProto
import PruneCore

/// The sections `prune inspect` shows for an ONNX model.
package struct ONNXInspection {
    /// The document inspected.
    package let document: ONNXDocument

    /// Creates the inspection of `document`.
    package init(document: ONNXDocument) { self.document = document }

    /// Model, Inputs, Outputs, Operators, Compute, Initializers and (when there is anything to say) Notes.
    package func sections() -> [InspectionSection] {
        let graph = document.proto.graph
        let shapes = shapeInference()
        let initializerNames = Set(document.initializers.map(\.name))
        var sections = [
            modelSection(shapes: shapes),
            valueSection("Inputs", graph.input.filter { !initializerNames.contains($0.name) }),
            valueSection("Outputs", graph.output),
            operatorSection(),
            computeSection(shapes: shapes),
            initializerSection(),
        ]
        if !document.warnings.isEmpty {
            sections.append(InspectionSection(title: "Notes", columns: ["note"], rows: document.warnings.map { [$0] }))
        }
        return sections
    }

    /// Shapes propagated from the graph inputs, with small INT64 initializers folded in as shape arguments.
    package func shapeInference() -> ONNXShapeInference {
        ONNXShapeInference(graph: document.proto.graph, model: document.model)
    }

    private func modelSection(shapes: ONNXShapeInference) -> InspectionSection {
        let proto = document.proto
        let opsets = proto.opsetImport.map { "\($0.domain.isEmpty ? "ai.onnx" : $0.domain) \($0.version)" }
        let producer = [proto.producerName, proto.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        let files = [document.file] + document.externalFiles
        let exposed = document.initializers.filter { $0.parameterIndex != nil }.count
        let elements = document.initializers.reduce(0) { total, initializer in
            total + (Tensor.checkedElementCount(initializer.dims.map { Int($0) }) ?? 0)
        }
        var rows: [[String]] = [
            ["IR version", String(proto.irVersion)],
            ["opsets", opsets.isEmpty ? "none declared" : opsets.joined(separator: ", ")],
            ["producer", producer.isEmpty ? "unknown" : producer],
            ["graph", proto.graph.name],
            ["nodes", NumberText.grouped(proto.graph.node.count)],
            [
                "initializers",
                "\(NumberText.grouped(document.initializers.count)) (\(NumberText.grouped(exposed)) exposed as parameters)",
            ],
            ["initializer elements", NumberText.grouped(elements)],
            ["files", files.map { "\($0.url.lastPathComponent) (\(NumberText.grouped($0.size)) bytes)" }.joined(separator: ", ")],
            ["file size", "\(NumberText.grouped(document.fileSize)) bytes"],
        ]
        if !shapes.batchSymbols.isEmpty {
            rows.append(["batch symbols taken as 1", shapes.batchSymbols.sorted().joined(separator: ", ")])
        }
        return InspectionSection(title: "Model", columns: ["property", "value"], rows: rows)
    }

    private func valueSection(_ title: String, _ values: [Onnx_ValueInfoProto]) -> InspectionSection {
        let rows = values.map { info -> [String] in
            [info.name, ONNXInspection.typeName(info.type), ONNXInspection.declaredShape(info.type)]
        }
        return InspectionSection(title: title, columns: ["name", "dtype", "shape"], rows: rows)
    }

    private func operatorSection() -> InspectionSection {
        var counts: [String: Int] = [:]
        for node in document.proto.graph.node {
            let op = ONNXWeightLayouts.isDefaultDomain(node.domain) ? node.opType : "\(node.domain).\(node.opType)"
            counts[op, default: 0] += 1
        }
        let rows = counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { [$0.key, NumberText.grouped($0.value)] }
        return InspectionSection(title: "Operators", columns: ["op", "count"], rows: rows)
    }

    private func computeSection(shapes: ONNXShapeInference) -> InspectionSection {
        var rows: [[String]] = []
        var total = 0
        var unknown = 0
        for (index, node) in document.proto.graph.node.enumerated()
        where ONNXWeightLayouts.isDefaultDomain(node.domain) && ["Conv", "Gemm", "MatMul"].contains(node.opType) {
            let weight = node.input.count > 1 ? node.input[1] : ""
            let name = node.name.isEmpty ? "node #\(index)" : node.name
            if let macs = shapes.macs[index] {
                total += macs
                rows.append([name, node.opType, weight, NumberText.grouped(macs)])
            } else {
                unknown += 1
                rows.append([name, node.opType, weight, "unknown"])
            }
        }
        rows.append([
            "total", "", "", unknown == 0 ? NumberText.grouped(total) : "\(NumberText.grouped(total)) + \(unknown) unknown",
        ])
        return InspectionSection(title: "Compute", columns: ["node", "op", "weight", "MACs"], rows: rows)
    }

    private func initializerSection() -> InspectionSection {
        let rows = document.initializers.map { initializer -> [String] in
            let shape = "[" + initializer.dims.map { String($0) }.joined(separator: ", ") + "]"
            var sparsity = "n/a"
            var layout = ""
            if let position = initializer.parameterIndex {
                let parameter = document.model.parameters[position]
                sparsity = String(format: "%.2f%%", parameter.tensor.sparsity * 100)
                parameter.tensor.releaseResidentPages()
                if let weightLayout = parameter.layout {
                    layout = "out \(weightLayout.outputAxis), in \(weightLayout.inputAxis)"
                } else if document.uses.conflicts[initializer.name] != nil {
                    layout = "conflicting uses"
                }
            }
            let users = document.uses.consumers[initializer.name] ?? []
            return [
                initializer.name, ONNXDataType.name(initializer.dataType), shape, sparsity,
                initializer.storageDescription, users.joined(separator: ", "), layout,
            ]
        }
        return InspectionSection(
            title: "Initializers", columns: ["name", "dtype", "shape", "sparsity", "storage", "used by", "layout"],
            rows: rows)
    }

    /// ONNX's name for the element type of a declared value (`FLOAT`), or the kind of a non-tensor type.
    static func typeName(_ type: Onnx_TypeProto) -> String {
        switch type.value {
        case .tensorType(let tensor)?: ONNXDataType.name(tensor.elemType)
        case .sparseTensorType(let tensor)?: "sparse " + ONNXDataType.name(tensor.elemType)
        case .sequenceType?: "sequence"
        case .mapType?: "map"
        case .optionalType?: "optional"
        case .opaqueType?: "opaque"
        case nil: "unknown"
        }
    }

    /// A declared shape with symbolic dimensions by name and unnamed dynamic ones as `?`.
    static func declaredShape(_ type: Onnx_TypeProto) -> String {
        guard case .tensorType(let tensor)? = type.value, tensor.hasShape else { return "unknown" }
        let dims = tensor.shape.dim.map { dim -> String in
            switch dim.value {
            case .dimValue(let value)?: String(value)
            case .dimParam(let symbol)?: symbol
            case nil: "?"
            }
        }
        return "[" + dims.joined(separator: ", ") + "]"
    }
}
