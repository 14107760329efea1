import CPrunePlugin

/// The checks made on a descriptor before anything in the plugin runs.
enum DescriptorCheck {
    /// The host's ABI version.
    static let hostMajor = Int(PRUNE_ABI_MAJOR)
    /// The host's ABI minor version.
    static let hostMinor = Int(PRUNE_ABI_MINOR)

    /// `sizeof(prune_plugin_descriptor)` for every minor version this host knows (index = minor).
    static let descriptorSizes: [Int] = [MemoryLayout<prune_plugin_descriptor>.size]

    /// The fixed first eight bytes of a descriptor, read without trusting the rest.
    struct Header: Equatable {
        let structSize: Int
        let major: Int
        let minor: Int

        init(reading pointer: UnsafeRawPointer) {
            structSize = Int(pointer.load(as: UInt32.self))
            major = Int(pointer.load(fromByteOffset: 4, as: UInt16.self))
            minor = Int(pointer.load(fromByteOffset: 6, as: UInt16.self))
        }
    }

    /// Every field of `header` that keeps this host from using the descriptor; empty when it is usable.
    static func mismatches(_ header: Header) -> [String] {
        var problems: [String] = []
        if header.major != hostMajor {
            problems.append("abi_major is \(header.major), this host supports \(hostMajor)")
        } else if header.minor > hostMinor {
            problems.append(
                "abi_minor is \(header.minor), newer than this host's \(hostMinor) (rebuild the plugin against this host's prune_plugin.h or update PruneKit)"
            )
        }
        let expected =
            header.major == hostMajor && header.minor <= hostMinor
            ? descriptorSizes[header.minor] : descriptorSizes[hostMinor]
        if header.structSize != expected {
            problems.append(
                "struct_size is \(header.structSize), ABI \(hostMajor).\(min(header.minor, hostMinor)) has \(expected)")
        }
        return problems
    }
}
