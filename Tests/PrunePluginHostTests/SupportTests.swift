import PruneCore
import Testing

@testable import PrunePluginHost

/// The digest used for pinning, and the narrowing used to store rewriter outputs.
@Suite struct SupportTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ])
    func sha256KnownAnswers(message: String, digest: String) {
        #expect(SHA256.hex(of: Array(message.utf8)) == digest)
    }

    @Test func sha256OfAMillionAs() {
        var digest = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { digest.update(chunk) }
        #expect(digest.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func everyHalfValueRoundTrips() {
        for bits in UInt16.min...UInt16.max {
            let value = HalfPrecision.float(fromHalfBits: bits)
            if value.isNaN { continue }
            #expect(TensorNarrowing.halfBits(value) == bits)
        }
    }

    @Test func halfRoundsToNearestEven() {
        #expect(TensorNarrowing.halfBits(1 + 0x1p-11) == 0x3C00)  // halfway between 1 and the next: even
        #expect(TensorNarrowing.halfBits(1 + 0x1p-11 + 0x1p-20) == 0x3C01)
        #expect(TensorNarrowing.halfBits(65520) == 0x7C00)  // rounds up to infinity
        #expect(TensorNarrowing.halfBits(0x1p-25) == 0)  // halfway to the smallest subnormal: even
        #expect(TensorNarrowing.halfBits(0x1.8p-25) == 1)
    }

    @Test func bfloat16RoundsToNearestEven() {
        #expect(TensorNarrowing.bfloat16Bits(1) == 0x3F80)
        #expect(TensorNarrowing.bfloat16Bits(Float(bitPattern: 0x3F80_8000)) == 0x3F80)
        #expect(TensorNarrowing.bfloat16Bits(Float(bitPattern: 0x3F81_8000)) == 0x3F82)
    }
}
