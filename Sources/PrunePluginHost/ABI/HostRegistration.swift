import CPrunePlugin
import Foundation
import PruneCore

/// `register_scorer`/`register_selector`/`register_rewriter`: checks a `prune_component` and records it.
enum HostRegistration {
    /// The size of `prune_component` in ABI 1.0; larger structs come from newer minors.
    static let componentSize1_0 = MemoryLayout<prune_component>.size

    static func register(
        _ kind: ComponentKind, _ ctx: OpaquePointer?, _ component: UnsafePointer<prune_component>?
    ) -> prune_status {
        guard let context = HostContext.from(ctx) else { return PRUNE_ERR_INVALID_ARGUMENT }
        guard let initContext = context as? InitContext else {
            return context.fail(PRUNE_ERR_INVALID_STATE, "register_\(kind.rawValue) is only allowed during init")
        }
        switch check(kind, component) {
        case .success(let registration):
            initContext.registrations.append(registration)
            return PRUNE_OK
        case .failure(let problem):
            initContext.registrationErrors.append(problem.message)
            return initContext.fail(PRUNE_ERR_INVALID_ARGUMENT, problem.message)
        }
    }

    private struct Problem: Error {
        let message: String
    }

    private static func check(
        _ kind: ComponentKind, _ pointer: UnsafePointer<prune_component>?
    ) -> Result<Registration, Problem> {
        guard let pointer else { return .failure(Problem(message: "register_\(kind.rawValue) got a NULL component")) }
        let component = pointer.pointee
        guard (componentSize1_0...maximumStructSize).contains(Int(component.struct_size)) else {
            return .failure(
                Problem(
                    message:
                        "register_\(kind.rawValue): prune_component.struct_size is \(component.struct_size), expected \(componentSize1_0)...\(maximumStructSize)"
                ))
        }
        guard let namePointer = component.name else {
            return .failure(Problem(message: "register_\(kind.rawValue): a component without a name"))
        }
        let name = String(cString: namePointer)
        guard isValidName(name) else {
            return .failure(
                Problem(
                    message:
                        "\(kind.rawValue) name '\(name)' is not valid: use letters, digits, '_', '-' and '.', starting with a letter"
                ))
        }
        let signature: ParameterSignature
        do {
            signature = try ParameterSignature(parsing: component.parameters.map { String(cString: $0) } ?? "")
        } catch {
            return .failure(Problem(message: "\(kind.rawValue) '\(name)': bad parameter signature: \(error)"))
        }
        guard let function = component.function else {
            return .failure(Problem(message: "\(kind.rawValue) '\(name)': function is NULL"))
        }
        guard let call = FFICallDescription(function: function, parameterTypes: signature.parameters.map(\.type))
        else {
            return .failure(Problem(message: "\(kind.rawValue) '\(name)': libffi could not prepare the call"))
        }
        let statistics = (component.statistics.map { String(cString: $0) } ?? "")
            .split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        return .success(
            Registration(
                kind: kind, name: name, summary: component.summary.map { String(cString: $0) } ?? "",
                signature: signature, statistics: statistics,
                serial: component.flags & PRUNE_COMPONENT_SERIAL != 0, call: call,
                gate: component.flags & PRUNE_COMPONENT_SERIAL != 0 ? NSLock() : nil))
    }

    /// Letters, digits, `_`, `-`, `.`, starting with a letter: safe inside `NAME:key=value` specs.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0))
        }
    }
}

/// The largest `struct_size` a plugin may declare for an ABI struct: later minors only append a few fields, so
/// anything larger is a plugin that never set the field (or lies about it), refused before the host reads it.
let maximumStructSize = 4096
