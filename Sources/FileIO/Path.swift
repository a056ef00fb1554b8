/// File paths as plain strings.
public enum Path {
    /// `name` inside `directory`: "dir" + "x" is "dir/x", "dir/" + "x" is "dir/x", and an empty
    /// side gives the other unchanged — what NSString's `appendingPathComponent` did here.
    public static func join(_ directory: String, _ name: String) -> String {
        if name.isEmpty { return directory }
        if directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
