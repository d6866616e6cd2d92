// Chapter 07: data2vec on text. Run: swift run -c release ch07-text [--quick]
// The chapter starts in Chapter07.swift; main.swift only starts it.
import ChapterKit

launch(Chapter07.self)
