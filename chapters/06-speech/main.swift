// Chapter 06: data2vec on speech. Run: swift run -c release ch06-speech [--quick]
// The chapter starts in Chapter06.swift; main.swift only starts it.
import ChapterKit

launch(Chapter06.self)
