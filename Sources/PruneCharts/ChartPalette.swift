/// Colours and dash patterns for series: ten distinguishable colours (Tableau 10), then the same colours dashed.
public enum ChartPalette {
    /// The colours, in order.
    public static let colors = [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    ]
    private static let dashes = ["", "6 3", "2 3", "8 3 2 3"]

    /// The colour of series `index`.
    public static func color(_ index: Int) -> String { colors[index % colors.count] }

    /// The dash pattern of series `index` (empty for a solid line).
    public static func dash(_ index: Int) -> String { dashes[(index / colors.count) % dashes.count] }
}
