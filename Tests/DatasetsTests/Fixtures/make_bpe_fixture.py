"""Writes the reference ids that BytePairEncodingTests compares the Swift tokenizer with.

bpe-600/vocab.json and merges.txt were written by the Swift tokenizer itself:
    BytePairEncoding.train(on: <the first 60,000 characters of data/text/corpus_train.txt>, vocabularySize: 600)
        .save(to: bpe-600)
(the test trains it again and checks that the merges are the same). This script builds a sample text
(the start of the validation novel, SST-2 sentences, and text no novel holds: digits, contractions,
runs of spaces, tabs, accents, CJK, emoji, a control byte), encodes it with Hugging Face's `tokenizers`
reading the same two files, and writes the sample and its ids.

Run from the repository root:
    pip install tokenizers
    python3 Tests/DatasetsTests/Fixtures/make_bpe_fixture.py
"""
import pathlib

from tokenizers import ByteLevelBPETokenizer

root = pathlib.Path(__file__).resolve().parents[3]
folder = pathlib.Path(__file__).resolve().parent / "bpe-600"
novel = (root / "data/text/corpus_valid.txt").read_text(encoding="utf-8")
sst2 = (root / "data/text/sst2_train.tsv").read_text(encoding="utf-8").splitlines()[1:41]
sentences = [line.split("\t")[0] for line in sst2]
odd = [
    "It's 1,234.5 km -- isn't it?  They'll've gone...   \t\tTabs\tand  double  spaces  ",
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00fcber \u0141\u00f3d\u017a, \u6771\u4eac\u90fd \u0645\u0631\u062d\u0628\u0627 \U0001F600\U0001F44D\U0001F3FD",
    "control \u0001 bell \u0007 and a line\r\nbreak\n\n\nend",
]
sample = novel[:4000] + "\n" + "\n".join(sentences) + "\n" + "\n".join(odd) + "\n"
tokenizer = ByteLevelBPETokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), add_prefix_space=False)
ids = tokenizer.encode(sample).ids
assert tokenizer.decode(ids) == sample
(folder / "sample.txt").write_bytes(sample.encode("utf-8"))
(folder / "sample.hf-ids.txt").write_text(" ".join(map(str, ids)) + "\n")
print(f"{len(sample)} characters, {len(ids)} ids, written to {folder}")
