import Testing
@testable import TUI

/// The pane's keys: one table for the chat and the translation view.
@Suite struct PaneSelectionTests {
    @Test func headAndLayerKeysStepAndWrapAround() {
        var s = PaneSelection(layers: 3, heads: 4, layer: 2)
        #expect((s.layer, s.head) == (2, 0))
        #expect(s.apply(alt: "h", tokens: 0) && s.head == 3)
        #expect(s.apply(alt: "l", tokens: 0) && s.head == 0)
        #expect(s.apply(alt: "l", tokens: 0) && s.head == 1)
        #expect(s.apply(alt: "j", tokens: 0) && s.layer == 0, "next layer after the last is the first")
        #expect(s.apply(alt: "k", tokens: 0) && s.layer == 2)
        #expect(s.apply(alt: "k", tokens: 0) && s.layer == 1)
        #expect(s.apply(alt: "g", tokens: 0) && s.grid)
        #expect(s.apply(alt: "g", tokens: 0) && !s.grid)
        #expect(!s.apply(alt: "c", tokens: 0) && !s.apply(alt: "x", tokens: 0), "not the pane's keys")
        #expect(PaneSelection(layers: 2, heads: 2, layer: 9, head: -1) == PaneSelection(layers: 2, heads: 2, layer: 1, head: 0), "clamped")
    }

    @Test func scrubbingGoesBackThroughTheTokensAndForwardToLive() {
        var s = PaneSelection(layers: 1, heads: 1)
        #expect(s.apply(alt: ",", tokens: 0) && s.scrub == nil, "nothing to scrub yet")
        #expect(s.shown(tokens: 0) == nil && s.shown(tokens: 5) == 4)
        _ = s.apply(alt: ",", tokens: 5)
        #expect(s.scrub == 3 && s.shown(tokens: 5) == 3)
        #expect(s.scrubPosition(tokens: 5)! == (4, 5))
        _ = s.apply(alt: ",", tokens: 5)
        _ = s.apply(alt: ",", tokens: 5)
        _ = s.apply(alt: ",", tokens: 5)
        _ = s.apply(alt: ",", tokens: 5)
        #expect(s.scrub == 0, "stops at the first token")
        _ = s.apply(alt: ".", tokens: 5)
        #expect(s.scrub == 1)
        _ = s.apply(alt: ".", tokens: 5)
        _ = s.apply(alt: ".", tokens: 5)
        #expect(s.scrub == 3)
        _ = s.apply(alt: ".", tokens: 5)
        #expect(s.scrub == nil && s.scrubPosition(tokens: 5) == nil, "past the newest but one: live again")
        _ = s.apply(alt: ",", tokens: 5)
        _ = s.apply(alt: "/", tokens: 5)
        #expect(s.scrub == nil)
        s.scrub = 9
        #expect(s.shown(tokens: 5) == 4, "a scrub past a shorter translation shows its last token")
    }
}
