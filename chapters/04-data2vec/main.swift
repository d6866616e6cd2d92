// Chapter 04: the data2vec algorithm. Run: swift run -c release ch04-data2vec [--quick]
// The chapter is in Data2VecChapter.swift and Collapse.swift; main.swift only parses the command line.
Chapter04.main()
