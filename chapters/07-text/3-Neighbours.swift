// Chapter 07, section 3: what the token embeddings learned, seen through each token's nearest neighbours.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Foundation

extension Chapter07 {
    /// The `count` tokens whose embedding rows are closest to `id`'s by cosine similarity (specials left out).
    func nearestNeighbours(of id: Int, in embedding: Tensor, count: Int) -> [Int] {
        let (v, d) = (embedding.shape[0], embedding.shape[1])
        let e = embedding.storage.pointer
        func norm(_ r: Int) -> Float { (0..<d).reduce(0) { $0 + e[r * d + $1] * e[r * d + $1] }.squareRoot() }
        let base = norm(id)
        let scores = (BytePairEncoding.firstByte..<(v - 1)).filter { $0 != id }.map { r -> (Int, Float) in
            let dot = (0..<d).reduce(0) { $0 + e[id * d + $1] * e[r * d + $1] }
            return (r, dot / max(1e-8, base * norm(r)))
        }
        return scores.sorted { $0.1 > $1.1 }.prefix(count).map(\.0)
    }

    func neighbourSection(_ chapter: Chapter, _ config: TextConfig, text: TextData, pretrained: TextPretraining) {
        chapter.section("3. Nearest neighbours in the token embeddings")
        chapter.say("""
            Each token's row of the input embedding, compared with every other row by cosine similarity: the \
            five nearest, for both pretrained encoders. Tokens with a leading space are written with "Ġ", as \
            GPT-2 does.
            """)
        let words = [" she", " said", " two", " door", " good", " never", " looked"]
        for word in words {
            let ids = text.tokenizer.encode(word)
            guard ids.count == 1, let id = ids.first else { continue }
            print("  \(text.tokenizer.symbol(id))")
            for (name, backbone) in [("data2vec", pretrained.data2vec), ("masked LM", pretrained.languageModel)] {
                let neighbours = nearestNeighbours(of: id, in: backbone.frontEnd.tokens.weight, count: 5).map { text.tokenizer.symbol($0) }
                print("    " + name.padding(toLength: 11, withPad: " ", startingAt: 0) + neighbours.joined(separator: "  "))
            }
        }
    }
}
