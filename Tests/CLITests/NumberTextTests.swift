import Foundation
import Testing
@testable import attnchat

/// `NumberText` replaced Foundation's `String(format:)` in the commands' output: the same bytes.
@Suite struct NumberTextTests {
    static let values: [Double] = {
        var values: [Double] = [0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.125, 0.045, 2.675, 1e-7, -1e-7, 0.00005, 99.995,
                                123_456.789, 4_273_664 / 1e6, 1e20, -3.25e-4, .nan, .infinity, -.infinity]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 { values.append(Double.random(in: -1e5...1e5, using: &generator)) }
        for _ in 0..<100 { values.append(Double.random(in: -1...1, using: &generator) * 1e-3) }
        return values
    }()

    @Test func fixedAndExponentAreWhatStringFormatWrote() {
        for value in Self.values {
            for digits in 0...4 {
                #expect(NumberText.fixed(value, digits) == String(format: "%.\(digits)f", value))
                #expect(NumberText.fixed(value, digits, plus: true) == String(format: "%+.\(digits)f", value))
                #expect(NumberText.fixed(Float(value), digits) == String(format: "%.\(digits)f", Float(value)))
            }
            #expect(NumberText.exponent(value, 2) == String(format: "%.2e", value))
        }
        #expect(NumberText.fixed(1e300, 4).count == 306)
    }

    @Test func paddingAndHexAreWhatStringFormatWrote() {
        for n in [0, 7, 10, 59, 100, 12_345] {
            #expect(NumberText.zeroPadded(n, 2) == String(format: "%02d", n))
            #expect(NumberText.right(String(n), 4) == String(format: "%4d", n))
        }
        for byte in UInt8.min...UInt8.max { #expect(NumberText.hex(byte) == String(format: "%02X", byte)) }
        // bench's table: `%-30@ %10.2f` meant this, but Foundation on Linux ignored the width of %@.
        #expect(NumberText.left("decode_tokens_per_s", 30) + " " + NumberText.right(NumberText.fixed(1234.5678, 2), 10)
                == "decode_tokens_per_s               1234.57")
        #expect(NumberText.left("a key longer than ten", 10) == "a key longer than ten")
    }
}
