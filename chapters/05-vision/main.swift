// Chapter 05: data2vec on images. Run: swift run -c release ch05-vision [--quick]
// The chapter is in VisionChapter.swift (sections 1-2), EvaluationSections.swift (3-4) and Summary.swift;
// the tools are in Pretraining.swift and Evaluation.swift. main.swift only parses the command line.
Chapter05.main()
