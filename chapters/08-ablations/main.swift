// Chapter 08: the paper's ablations, in small. Run: swift run -c release ch08-ablations [--quick] [--grid full]
// The chapter starts in Chapter08.swift; main.swift only starts it.
import ChapterKit

launch(Chapter08.self)
