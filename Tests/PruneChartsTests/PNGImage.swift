import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal PNG reader for the rendering tests: 8-bit RGB or RGBA, not interlaced (what `rsvg-convert` writes).
/// zlib's `uncompress` is loaded with `dlopen` from the system's libz, so the test needs no extra package.
struct PNGImage {
    let width: Int
    let height: Int
    /// Bytes per pixel: 3 (RGB) or 4 (RGBA).
    let channels: Int
    /// Unfiltered rows, `width × channels` bytes each.
    let pixels: [UInt8]

    struct Unsupported: Error, CustomStringConvertible { let description: String }

    /// The (r, g, b, a) of pixel (x, y).
    func pixel(_ x: Int, _ y: Int) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8) {
        let base = (y * width + x) * channels
        return (pixels[base], pixels[base + 1], pixels[base + 2], channels == 4 ? pixels[base + 3] : 255)
    }

    /// Whether pixel (x, y) is (nearly) opaque white.
    func isBackground(_ x: Int, _ y: Int) -> Bool {
        let p = pixel(x, y)
        return p.r > 245 && p.g > 245 && p.b > 245
    }

    /// Whether any pixel within `radius` of (x, y) is not background.
    func hasInk(near x: Int, _ y: Int, radius: Int = 2) -> Bool {
        for dy in -radius...radius {
            for dx in -radius...radius where (0..<width).contains(x + dx) && (0..<height).contains(y + dy) {
                if !isBackground(x + dx, y + dy) { return true }
            }
        }
        return false
    }

    init(contentsOf url: URL) throws {
        let bytes = [UInt8](try Data(contentsOf: url))
        guard bytes.count > 33, bytes.prefix(8).elementsEqual([137, 80, 78, 71, 13, 10, 26, 10]) else {
            throw Unsupported(description: "\(url.path) is not a PNG file")
        }
        var offset = 8
        var idat: [UInt8] = []
        var header: (width: Int, height: Int, depth: UInt8, color: UInt8, interlace: UInt8)?
        func be32(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        while offset + 8 <= bytes.count {
            let length = be32(offset)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let data = offset + 8
            if type == "IHDR" {
                header = (be32(data), be32(data + 4), bytes[data + 8], bytes[data + 9], bytes[data + 12])
            } else if type == "IDAT" {
                idat += bytes[data..<(data + length)]
            } else if type == "IEND" {
                break
            }
            offset = data + length + 4
        }
        guard let header, header.depth == 8, header.interlace == 0, header.color == 2 || header.color == 6 else {
            throw Unsupported(description: "\(url.path): only 8-bit RGB/RGBA non-interlaced PNGs are read")
        }
        width = header.width
        height = header.height
        channels = header.color == 6 ? 4 : 3
        let stride = width * channels
        let raw = try PNGImage.inflate(idat, expected: height * (stride + 1))
        var out = [UInt8](repeating: 0, count: height * stride)
        for row in 0..<height {
            let filter = raw[row * (stride + 1)]
            for i in 0..<stride {
                let x = Int(raw[row * (stride + 1) + 1 + i])
                let a = i >= channels ? Int(out[row * stride + i - channels]) : 0
                let b = row > 0 ? Int(out[(row - 1) * stride + i]) : 0
                let c = row > 0 && i >= channels ? Int(out[(row - 1) * stride + i - channels]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
                    predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: throw Unsupported(description: "\(url.path): unknown PNG filter \(filter)")
                }
                out[row * stride + i] = UInt8((x + predicted) & 0xFF)
            }
        }
        pixels = out
    }

    private typealias Uncompress = @convention(c) (
        UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt>, UnsafePointer<UInt8>, UInt
    ) -> Int32

    /// zlib's `uncompress`, from the system library.
    private static func inflate(_ data: [UInt8], expected: Int) throws -> [UInt8] {
        guard let library = dlopen("libz.so.1", RTLD_NOW), let symbol = dlsym(library, "uncompress") else {
            throw Unsupported(description: "libz.so.1 is not loadable")
        }
        let uncompress = unsafeBitCast(symbol, to: Uncompress.self)
        var out = [UInt8](repeating: 0, count: expected)
        var length = UInt(expected)
        let status = out.withUnsafeMutableBufferPointer { target in
            data.withUnsafeBufferPointer { source in
                uncompress(target.baseAddress!, &length, source.baseAddress!, UInt(source.count))
            }
        }
        guard status == 0, length == UInt(expected) else {
            throw Unsupported(description: "zlib could not inflate the image data (status \(status))")
        }
        return out
    }
}
