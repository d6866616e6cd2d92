// Chapter 07, section 1: a byte-level BPE tokenizer, trained on the pretraining text.
import Autograd
import ChapterKit
import Datasets
import Foundation
import Plot

/// The tokenizer and everything it tokenized.
struct TextData {
    var tokenizer: BytePairEncoding
    /// Pretraining and validation blocks of `sequenceLength` tokens.
    var trainBlocks: [[Int]]
    var validBlocks: [[Int]]
    var sst2Train: SST2
    var sst2Dev: SST2
    var devPath: String
    /// The text the encoders pretrained on, and the held-out novel (lower-cased when the recipe says so).
    var pretrainingText: String
    var validText: String
}

extension Chapter07 {
    /// Reads every text file the chapter needs and checks that each holds something to work with, before any work.
    func loadText() throws -> (corpus: String, valid: String, sst2Train: SST2, sst2Dev: SST2, devURL: URL) {
        let directory = URL(fileURLWithPath: options.dataDir).appendingPathComponent("text")
        func text(_ name: String, _ use: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            let text = try readText(url)
            guard text.contains(where: { !$0.isWhitespace }) else {
                throw ChapterError("\(url.path): the file holds no text (\(text.utf8.count) bytes), and the chapter \(use) it. Copy data/text again.")
            }
            return text
        }
        let corpus = try text("corpus_train.txt", "pretrains on")
        let valid = try text("corpus_valid.txt", "measures the masked language model on")
        let sst2Train = try SST2(directory.appendingPathComponent("sst2_train.tsv"))
        let devURL = sst2Dev.map { URL(fileURLWithPath: $0) } ?? directory.appendingPathComponent("sst2_dev.tsv")
        do { return (corpus, valid, sst2Train, try SST2(devURL), devURL) } catch {
            throw ChapterError(sst2Dev == nil ? "\(error)" : "--sst2-dev: \(error)")
        }
    }

    func tokenizerSection(_ chapter: Chapter, _ config: TextConfig, folder: URL) throws -> TextData {
        chapter.section("1. Tokens: a byte-level BPE trained on the pretraining text")
        let loaded = try loadText()
        let (sst2Train, sst2Dev, devURL) = (loaded.sst2Train, loaded.sst2Dev, loaded.devURL)
        // Section 4 draws up to the largest label count from the rows before the held-out ones: checked before any work.
        let drawable = sst2Train.count - min(config.sst2ValidationPhrases, sst2Train.count / 2), largest = config.sst2Counts.max() ?? 0
        guard drawable >= largest else {
            throw ChapterError("\(options.dataDir)/text/sst2_train.tsv has \(sst2Train.count) labelled rows, \(drawable) of them to draw from "
                               + "(the rest are held out for --validation), but section 4 draws up to \(largest) labelled phrases. Copy data/text again "
                               + "from the repository, or give a fuller SST-2 training file.")
        }
        var corpus = options.quick ? String(loaded.corpus.prefix(200_000)) : loaded.corpus
        let valid = config.lowercase ? loaded.valid.lowercased() : loaded.valid
        if config.lowercase { corpus = corpus.lowercased() }
        let novelBytes = corpus.utf8.count
        if config.pretrainOnSST2Text {
            corpus += "\n" + sst2Train.sentences.prefix(options.quick ? 2000 : sst2Train.count).joined(separator: "\n")
        }
        chapter.say("""
            GPT-2's tokenizer, written from its description (Sources/Datasets/BytePairEncoding.swift): the alphabet \
            is the 256 byte values, so no text is ever unknown; a pre-split cuts text into words, numbers and \
            punctuation, each keeping the space before it; training merges the most frequent adjacent pair of \
            symbols into a new symbol, again and again, until the vocabulary has \(config.frontEnd.vocabularySize) entries. \
            The ids follow fairseq's dictionary: <s> 0, <pad> 1, </s> 2, <unk> 3, bytes, merges, <mask> last. \
            The pretraining text is four novels (\(novelBytes) bytes\(config.lowercase ? ", lower-cased as SST-2's text is" : ""))\(config.pretrainOnSST2Text ? " and the SST-2 training sentences without their labels: unlabelled in-domain text, as the web text in RoBERTa's and data2vec's corpora is for reviews (--novels-only leaves them out)" : " only (--novels-only)"); \
            a fifth novel is held out for validation.
            """)
        var growth: [(merges: Int, tokensPerWord: Double)] = []
        let words = Double(BytePairEncoding.split(corpus).filter { $0.contains { !$0.isWhitespace } }.count)
        let ((tokenizer), seconds) = try measure {
            try BytePairEncoding.train(on: corpus, vocabularySize: config.frontEnd.vocabularySize) { merges, pieces, counts in
                guard merges % 100 == 0 || merges == 1 else { return }
                let tokens = zip(pieces, counts).reduce(0) { $0 + $1.0.count * $1.1 }
                growth.append((merges, Double(tokens) / words))
            }
        }
        print(String(format: "  trained %d merges on %d bytes of text in %.1f s", tokenizer.merges.count, corpus.utf8.count, seconds))
        if tokenizer.vocabularySize < config.frontEnd.vocabularySize {
            print("  note: the text holds only \(tokenizer.merges.count) distinct merges, so the vocabulary has \(tokenizer.vocabularySize) entries, "
                  + "not \(config.frontEnd.vocabularySize); the models below are built for \(tokenizer.vocabularySize) (more text, or a smaller --vocabulary-size, avoids this)")
        }
        try tokenizer.save(to: folder)
        let (validIDs, encodeSeconds) = measure { tokenizer.encode(valid) }
        try AtomicFile.write(validIDs.map(String.init).joined(separator: " "), to: folder.appendingPathComponent("corpus_valid.txt.ids"))
        print(String(format: "  encoded the validation novel: %d tokens in %.2f s (%.0f tokens/s), %.2f tokens per word",
                     validIDs.count, encodeSeconds, Double(validIDs.count) / encodeSeconds, Double(validIDs.count) / Double(valid.split(separator: " ").count)))
        print("  written: \(folder.path)/vocab.json and merges.txt (GPT-2's format; Tests/DatasetsTests/Fixtures/check_tokenizer.py loads them with Hugging Face's tokenizers)")
        let example = config.lowercase ? "holmes said, \"it's elementary, my dear watson!\"" : "Holmes said, \"It's elementary, my dear Watson!\""
        print("  \"\(example)\" ->")
        print("    " + tokenizer.encode(example).map { tokenizer.symbol($0) }.joined(separator: " | "))
        chapter.check(tokenizer.decode(validIDs) == valid, "decoding the encoded validation novel gives back its exact text")
        let sstText = sst2Train.sentences.prefix(options.quick ? 500 : sst2Train.count).joined(separator: "\n")
        chapter.check(tokenizer.decode(tokenizer.encode(sstText)) == sstText, "and the same for the SST-2 training sentences")
        chapter.figure("07-bpe-growth.png") { path throws(PlotError) in
            var figure = Figure(title: "BPE on the pretraining text: tokens per word as merges are learned", xLabel: "merges", yLabel: "tokens per word")
            figure.add(.line(x: growth.map { Double($0.merges) }, y: growth.map(\.tokensPerWord), title: "training text"))
            try figure.render(to: path)
        }
        let trainBlocks = tokenizer.blocks(of: corpus, length: config.sequenceLength)
        let validBlocks = tokenizer.blocks(of: options.quick ? String(valid.prefix(30_000)) : valid, length: config.sequenceLength)
        print("  pretraining text: \(trainBlocks.count) blocks of \(config.sequenceLength) tokens; validation novel: \(validBlocks.count) blocks")
        guard !trainBlocks.isEmpty else {
            throw ChapterError("the pretraining text gives no block of \(config.sequenceLength) tokens (\(corpus.utf8.count) bytes); give a longer corpus_train.txt\(config.pretrainOnSST2Text ? "" : " or leave out --novels-only")")
        }
        guard !validBlocks.isEmpty else {
            throw ChapterError("\(URL(fileURLWithPath: options.dataDir).appendingPathComponent("text/corpus_valid.txt").path) gives no block of \(config.sequenceLength) tokens; give a longer validation text")
        }
        return TextData(tokenizer: tokenizer, trainBlocks: trainBlocks, validBlocks: validBlocks, sst2Train: sst2Train, sst2Dev: sst2Dev,
                        devPath: devURL.path, pretrainingText: corpus, validText: valid)
    }
}
