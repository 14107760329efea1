import CFFI
import PruneCore

/// A prepared libffi call to one plugin function `prune_status f(request *, params...)`.
///
/// Prepared once per registered component and reused for every call; the `ffi_cif` and its argument-type array
/// live on the heap as long as this object. Calls from several threads at once are safe (the description is
/// only read).
final class FFICallDescription: @unchecked Sendable {
    private let cif: UnsafeMutablePointer<ffi_cif>
    private let argumentTypes: UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>
    private let function: @convention(c) () -> Void
    /// The parameter types after the request pointer, in order.
    let parameterTypes: [ParameterType]

    /// Prepares the call description, or returns nil when libffi refuses it.
    init?(function: @escaping @convention(c) () -> Void, parameterTypes: [ParameterType]) {
        let count = parameterTypes.count + 1
        self.function = function
        self.parameterTypes = parameterTypes
        argumentTypes = .allocate(capacity: count)
        argumentTypes[0] = prune_ffi_type_pointer()
        for (i, type) in parameterTypes.enumerated() {
            argumentTypes[i + 1] = FFICallDescription.ffiType(type)
        }
        cif = .allocate(capacity: 1)
        let status = ffi_prep_cif(cif, prune_ffi_default_abi(), UInt32(count), prune_ffi_type_sint32(), argumentTypes)
        if status != FFI_OK {
            cif.deallocate()
            argumentTypes.deallocate()
            return nil
        }
    }

    deinit {
        cif.deallocate()
        argumentTypes.deallocate()
    }

    /// Calls the function with `request` as its first argument and the bound parameter values after it.
    ///
    /// - Precondition: `arguments` was made for `parameterTypes`.
    func call(request: UnsafeMutableRawPointer, arguments: FFIArguments) -> Int32 {
        let count = parameterTypes.count + 1
        let values = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: count)
        defer { values.deallocate() }
        let requestSlot = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
        defer { requestSlot.deallocate() }
        requestSlot.initialize(to: request)
        values[0] = UnsafeMutableRawPointer(requestSlot)
        for i in 0..<parameterTypes.count { values[i + 1] = arguments.slot(i) }
        // libffi widens integral results to ffi_arg; the buffer must hold at least 8 bytes.
        var result: ffi_arg = 0
        ffi_call(cif, function, &result, values)
        return Int32(truncatingIfNeeded: result)
    }

    private static func ffiType(_ type: ParameterType) -> UnsafeMutablePointer<ffi_type> {
        switch type {
        case .f64: prune_ffi_type_double()
        case .i64: prune_ffi_type_sint64()
        case .str: prune_ffi_type_pointer()
        case .bool: prune_ffi_type_sint32()
        }
    }
}
