// Chapter 03: the Transformer. Run: swift run -c release ch03-transformer [--quick]
// The chapter is in Transformer.swift and Reversal.swift; main.swift only parses the command line.
import ChapterKit

launch(Chapter03.self)
