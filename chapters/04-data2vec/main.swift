// Chapter 04: the data2vec algorithm. Run: swift run -c release ch04-data2vec [--quick]
// The chapter starts in Chapter04.swift; main.swift only starts it.
import ChapterKit

launch(Chapter04.self)
