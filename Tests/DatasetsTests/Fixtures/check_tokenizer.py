"""Loads a tokenizer written by BytePairEncoding.save (vocab.json + merges.txt) with Hugging Face's
`tokenizers` and checks that it encodes text to the same ids as the Swift tokenizer.

Run (after chapter 07 has written its tokenizer, or with any folder holding the two files):
    pip install tokenizers
    python3 Tests/DatasetsTests/Fixtures/check_tokenizer.py checkpoints/ch07-text data/text/corpus_valid.txt
It prints the first ids, and compares the whole file's ids with `<file>.ids` if the chapter wrote one.
"""
import pathlib
import sys

from tokenizers import ByteLevelBPETokenizer

folder, text_path = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
tokenizer = ByteLevelBPETokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), add_prefix_space=False)
text = text_path.read_text(encoding="utf-8")
ids = tokenizer.encode(text).ids
print(f"{len(ids)} tokens; first 20: {ids[:20]}")
print("decodes back to the text:", tokenizer.decode(ids) == text)
swift_ids = folder / (text_path.name + ".ids")
if swift_ids.exists():
    theirs = [int(x) for x in swift_ids.read_text().split()]
    same = theirs == ids
    print(f"the Swift tokenizer's {len(theirs)} ids are {'identical' if same else 'DIFFERENT'}")
    sys.exit(0 if same else 1)
