/// The rule every ONNX reader applies to a model's `opset_import` entries: a version below 1 is not a valid
/// model. PruneFormats (`inspect`, `run`) and PruneRuntime (`eval`, calibration, latency) both call it.
package enum OpsetImportRule {
    /// Throws for the first entry whose version is below 1.
    ///
    /// - Throws: `PruneError.Kind.corruptFile` naming the file and the domain.
    package static func check(_ imports: [(domain: String, version: Int64)], path: String) throws {
        for entry in imports where entry.version < 1 {
            throw PruneError(
                .corruptFile, "\(path): opset_import for domain '\(entry.domain)' has version \(entry.version)")
        }
    }
}
