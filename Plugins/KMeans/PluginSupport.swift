import CPrunePlugin

// The small helper a Swift plugin needs around the C ABI: static C strings and the descriptor's storage.
// Copy this file into your own Swift plugin; it uses nothing but the standard library and prune_plugin.h.

/// A NUL-terminated copy of `text` that lives for the rest of the process (descriptor and registration strings).
func staticCString(_ text: String) -> UnsafePointer<CChar> {
    let utf8 = Array(text.utf8CString)
    let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count)
    pointer.initialize(from: utf8, count: utf8.count)
    return UnsafePointer(pointer)
}

/// A descriptor stored where the host can read it for the life of the process.
func makeDescriptor(
    name: String, version: String, description: String, license: String,
    initialize: @convention(c) (UnsafePointer<prune_host_api>?, OpaquePointer?) -> prune_status
) -> UnsafePointer<prune_plugin_descriptor> {
    var value = prune_plugin_descriptor()
    value.struct_size = UInt32(MemoryLayout<prune_plugin_descriptor>.size)
    value.abi_major = UInt16(PRUNE_ABI_MAJOR)
    value.abi_minor = UInt16(PRUNE_ABI_MINOR)
    value.name = staticCString(name)
    value.version = staticCString(version)
    value.description = staticCString(description)
    value.license = staticCString(license)
    value.`init` = initialize
    let pointer = UnsafeMutablePointer<prune_plugin_descriptor>.allocate(capacity: 1)
    pointer.initialize(to: value)
    return UnsafePointer(pointer)
}

/// A `prune_component` for `function` (any `@convention(c)` function, cast to `prune_fn`).
func makeComponent(name: String, summary: String, parameters: String, function: prune_fn) -> prune_component {
    var component = prune_component()
    component.struct_size = UInt32(MemoryLayout<prune_component>.size)
    component.name = staticCString(name)
    component.summary = staticCString(summary)
    component.parameters = staticCString(parameters)
    component.function = function
    return component
}

/// Records `message` for the call and returns `status`.
func fail(_ request: UnsafeMutablePointer<prune_score_request>, _ status: prune_status, _ message: String)
    -> prune_status
{
    message.withCString { request.pointee.host.pointee.set_error(request.pointee.ctx, $0) }
    return status
}
