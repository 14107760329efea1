/// How counts are written for people, in every table and report line: digits in groups of three (`19,080`).
package enum NumberText {
    /// `n` with its digits grouped by commas: `1,234,567`, `-12,000`, `7`.
    package static func grouped(_ n: Int) -> String {
        var digits = Array(String(n.magnitude))
        var groups: [String] = []
        while digits.count > 3 {
            groups.insert(String(digits.suffix(3)), at: 0)
            digits.removeLast(3)
        }
        groups.insert(String(digits), at: 0)
        return (n < 0 ? "-" : "") + groups.joined(separator: ",")
    }
}
