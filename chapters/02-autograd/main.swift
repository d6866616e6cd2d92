// Chapter 02: automatic differentiation. Run: swift run -c release ch02-autograd [--quick]
// The chapter is in Autograd.swift and TwoMoons.swift; main.swift only parses the command line.
import ChapterKit

launch(Chapter02.self)
