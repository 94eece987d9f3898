import Foundation

/// A fresh temporary directory.
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/exitblock-sources-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
}
