extension ComponentInfo {
    /// Checks `arguments` against the component's signature and fills in defaults.
    ///
    /// Errors name the component and parameter, and for a plugin component also the plugin file, so a user can
    /// tell which shared library declared the parameters they got wrong.
    ///
    /// - Throws: `PruneError.Kind.invalidParameter`, as ``ParameterSignature/bind(_:component:)`` does.
    public func bind(_ arguments: [(key: String, value: String)]) throws -> ParameterValues {
        do {
            return try signature.bind(arguments, component: name)
        } catch let error as PruneError {
            guard case .plugin(let path) = source else { throw error }
            throw PruneError(error.kind, "\(error.message) [\(kind.rawValue) from plugin \(path)]")
        }
    }
}
