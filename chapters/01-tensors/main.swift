// Chapter 01: tensors. Run: swift run -c release ch01-tensors [--quick]
// main.swift only parses the command line; the chapter is in Tensors.swift (closures written at the
// top level of main.swift run main-actor checks on every call, which makes them slow).
import ChapterKit

launch(Chapter01.self)
