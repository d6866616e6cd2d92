// Chapter 05: data2vec on images. Run: swift run -c release ch05-vision [--quick]
// The chapter starts in Chapter05.swift; main.swift only starts it.
import ChapterKit

launch(Chapter05.self)
