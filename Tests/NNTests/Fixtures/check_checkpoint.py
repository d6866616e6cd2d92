"""Opens a checkpoint written by the Swift code with Python's safetensors and prints what it holds.

    swift run -c release ch03-transformer          # writes checkpoints/ch03-transformer.safetensors
    python3 Tests/NNTests/Fixtures/check_checkpoint.py checkpoints/ch03-transformer.safetensors [values.npy]

With a second argument (a .npy the chapter wrote with the first tensor's values), it checks equality.
"""
import sys

import numpy as np
from safetensors.numpy import load_file

tensors = load_file(sys.argv[1])
for name, array in sorted(tensors.items()):
    print(f"{name:45s} {str(array.dtype):8s} {array.shape}  mean {array.mean():+.6f}")
print(f"{len(tensors)} tensors, {sum(a.size for a in tensors.values())} values")
if len(sys.argv) > 2:
    reference = np.load(sys.argv[2])
    first = tensors[sorted(tensors)[0]]
    assert first.shape == reference.shape and np.array_equal(first, reference), "values differ"
    print(f"{sorted(tensors)[0]} equals {sys.argv[2]} exactly")
