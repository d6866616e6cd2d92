#!/usr/bin/env python3
"""Damaged inputs, one at a time, against the release binaries of chapters 06 and 07 (and the shared flags).

Each case copies data/ to a temporary folder, damages one file (or passes one bad flag), runs the chapter with
--quick, and prints one line: the case, the exit status, and the first line that explains what happened (an
"Error:" line, a "note:" line, or the end of the run). A case passes when the status is below 128 (no crash,
no trap), the process ends within its time limit, and the line says what it should.

    swift build -c release && python3 scripts/damaged-inputs.py          (needs numpy)
    scripts/record.sh damaged-inputs python3 scripts/damaged-inputs.py   (the log in results/)
"""
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(os.environ.get("BIN", ROOT / ".build" / "release")).resolve()  # BIN=... for another build folder
failures = 0


def write_npy(path, array):
    np.lib.format.write_array(open(path, "wb"), np.ascontiguousarray(array), version=(1, 0))


def read_npy(path):
    return np.load(path)


def fresh_data():
    folder = pathlib.Path(tempfile.mkdtemp(prefix="damaged-"))
    shutil.copytree(ROOT / "data", folder / "data")
    return folder


def run(name, chapter, damage, expect, args=(), timeout=120, seconds_at_most=None):
    """Damages a fresh copy of data/ with `damage(data_folder)`, runs the chapter and checks the outcome."""
    global failures
    folder = fresh_data()
    data = folder / "data"
    extra = damage(data) or []
    command = [str(BIN / chapter), "--quick", "--data-dir", str(data), "--figures-dir", str(folder / "figures")]
    if chapter in ("ch06-speech",):
        command += ["--checkpoint", str(folder / "ck.safetensors")]
    if chapter in ("ch07-text",):
        command += ["--checkpoint-folder", str(folder / "ck07")]
    command += list(args) + extra
    start = time.time()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=folder)
        status, output = result.returncode, result.stdout + result.stderr
    except subprocess.TimeoutExpired as timeout_error:
        status, output = "timeout", (timeout_error.stdout or b"").decode(errors="replace")
    elapsed = time.time() - start
    lines = output.splitlines()
    explanation = next((l.strip() for l in lines if l.startswith("Error:")), None) \
        or next((l.strip() for l in lines if "note:" in l), None) \
        or next((l.strip() for l in reversed(lines) if l.strip()), "(no output)")
    ok = status != "timeout" and status < 128 and expect.lower() in output.lower()
    if seconds_at_most is not None and elapsed > seconds_at_most:
        ok = False
    failures += 0 if ok else 1
    print(f"{'ok  ' if ok else 'FAIL'} {name:58} exit {status!s:>3} {elapsed:5.1f} s  {explanation[:220]}")
    sys.stdout.flush()
    shutil.rmtree(folder, ignore_errors=True)


speech = lambda d: d / "speech"
text = lambda d: d / "text"


def set_clip_lengths(d, lengths_by_clip):
    """Replaces the samples of the given clips with that many samples (the rest of the audio unchanged)."""
    audio = read_npy(speech(d) / "fsdd_train_audio.npy")
    offsets = read_npy(speech(d) / "fsdd_train_offsets.npy")
    clips = [audio[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]
    for clip, length in lengths_by_clip.items():
        clips[clip] = (np.arange(length) % 7 * 100 - 300).astype(np.int16)
    write_npy(speech(d) / "fsdd_train_audio.npy", np.concatenate(clips).astype("<i2"))
    write_npy(speech(d) / "fsdd_train_offsets.npy", np.concatenate([[0], np.cumsum([len(c) for c in clips])]).astype("<i8"))


def first_train_clips(d, count):
    takes = read_npy(speech(d) / "fsdd_train_takes.npy")
    return [int(i) for i in np.nonzero(takes >= 5)[0][:count]]


print("Damaged inputs against the release binaries, one at a time (--quick; a fresh copy of data/ each)")
print()
print("## speech (ch06-speech)")
run("a 1-sample clip as the first training clip", "ch06-speech",
    lambda d: set_clip_lengths(d, {first_train_clips(d, 1)[0]: 1}), "shorter than one frame")
run("several 50-sample clips among the first training clips", "ch06-speech",
    lambda d: set_clip_lengths(d, {c: 50 for c in first_train_clips(d, 40)[::3]}), "shorter than one frame")
run("one clip of 60 seconds", "ch06-speech",
    lambda d: set_clip_lengths(d, {first_train_clips(d, 1)[0]: 60 * 8000}), "s and cut to", seconds_at_most=60)


def speakers_with(d, transform):
    path = speech(d) / "speakers.txt"
    path.write_bytes(transform(path.read_bytes()))


run("two speakers with the same name", "ch06-speech",
    lambda d: speakers_with(d, lambda b: b.replace(b"jackson", b"george")), "appears twice")
run("speakers.txt missing", "ch06-speech", lambda d: (speech(d) / "speakers.txt").unlink(), "no such file")
run("speakers.txt is a folder", "ch06-speech",
    lambda d: ((speech(d) / "speakers.txt").unlink(), (speech(d) / "speakers.txt").mkdir())[1], "folder")
run("speakers.txt with CRLF line ends", "ch06-speech",
    lambda d: speakers_with(d, lambda b: b.replace(b"\n", b"\r\n")), "done in")
run("speakers.txt without its header line", "ch06-speech",
    lambda d: speakers_with(d, lambda b: b.split(b"\n", 1)[1]), "header")


def change(d, name, transform):
    path = speech(d) / name
    write_npy(path, transform(read_npy(path)))


run("a take number of 10^15", "ch06-speech",
    lambda d: change(d, "fsdd_train_takes.npy", lambda a: np.where(np.arange(len(a)) == 7, 10**15, a).astype("<i8")), "outside FSDD's 0...49")
run("labels of shape (50, 50)", "ch06-speech",
    lambda d: change(d, "fsdd_train_labels.npy", lambda a: a.reshape(50, 50)), "shape [N]")
run("every clip silent (all-zero audio)", "ch06-speech",
    lambda d: change(d, "fsdd_train_audio.npy", lambda a: np.zeros_like(a)), "silent")
run("every take below 5 (an empty training split)", "ch06-speech",
    lambda d: change(d, "fsdd_train_takes.npy", lambda a: (a % 5).astype("<i8")), "fsdd_train_takes.npy")
run("audio as <i4", "ch06-speech",
    lambda d: change(d, "fsdd_train_audio.npy", lambda a: a.astype("<i4")), "<i2")
run("offsets as <i4", "ch06-speech",
    lambda d: change(d, "fsdd_train_offsets.npy", lambda a: a.astype("<i4")), "<i8")
run("labels as <f8", "ch06-speech",
    lambda d: change(d, "fsdd_train_labels.npy", lambda a: a.astype("<f8")), "<i8")
run("--test-speakers naming every speaker", "ch06-speech", lambda d: None, "nothing is left to train on",
    args=["--test-speakers", "george,jackson,nicolas,theo,yweweler"])
run("--test-speakers with an unknown name", "ch06-speech", lambda d: None, "no speaker named", args=["--test-speakers", "bob"])
run("--ema-decays with one value", "ch06-speech", lambda d: None, "--ema-decays takes two values", args=["--ema-decays", "0.9"])
run("--frozen-only with --pretrain-only", "ch06-speech", lambda d: None, "contradict", args=["--frozen-only", "--pretrain-only"])

print()
print("## text (ch07-text)")


def text_file(d, name, content):
    (text(d) / name).write_bytes(content)


for label, content, expect in [("empty", b"", "holds no text"), ("one character", b"a", "no block of 64 tokens"),
                               ("whitespace only", b" \n\t\n", "holds no text")]:
    run(f"--novels-only with a corpus_train.txt that is {label}", "ch07-text",
        lambda d, c=content: text_file(d, "corpus_train.txt", c), expect, args=["--novels-only"])
run("--novels-only with a corpus_train.txt of 3,000 bytes", "ch07-text",
    lambda d: text_file(d, "corpus_train.txt", (text(d) / "corpus_train.txt").read_bytes()[:3000]), "distinct merges", args=["--novels-only"])
run("--novels-only with a corpus_train.txt of 30,000 bytes (fewer merges than the vocabulary)", "ch07-text",
    lambda d: text_file(d, "corpus_train.txt", (text(d) / "corpus_train.txt").read_bytes()[:30000]), "distinct merges", args=["--novels-only"])
run("corpus_train.txt empty (SST-2 text would be all that is left)", "ch07-text",
    lambda d: text_file(d, "corpus_train.txt", b""), "holds no text")
run("corpus_valid.txt empty", "ch07-text", lambda d: text_file(d, "corpus_valid.txt", b""), "holds no text")
run("corpus_valid.txt whitespace only", "ch07-text", lambda d: text_file(d, "corpus_valid.txt", b"  \n \n"), "holds no text")


def sst_rows(d, rows):
    lines = (text(d) / "sst2_train.tsv").read_bytes().split(b"\n")
    text_file(d, "sst2_train.tsv", b"\n".join(lines[:rows + 1]) + b"\n")


run("sst2_train.tsv with 1 row", "ch07-text", lambda d: sst_rows(d, 1), "has 1 labelled rows")
run("sst2_train.tsv with 20 rows", "ch07-text", lambda d: sst_rows(d, 20), "has 20 labelled rows")
run("an SST-2 row with an extra column in the middle", "ch07-text",
    lambda d: text_file(d, "sst2_train.tsv", (text(d) / "sst2_train.tsv").read_bytes().replace(b" \t1\n", b" \tfoo\t1\n", 1)), "3 tab-separated columns")
run("SST-2 files with CRLF line ends", "ch07-text",
    lambda d: [text_file(d, n, (text(d) / n).read_bytes().replace(b"\n", b"\r\n")) for n in ("sst2_train.tsv", "sst2_dev.tsv")] and None, "done in")
run("--sst2-dev missing", "ch07-text", lambda d: None, "--sst2-dev", args=["--sst2-dev", "/nonexistent/dev.tsv"])
run("--sst2-dev a folder", "ch07-text", lambda d: (d / "devfolder").mkdir() or ["--sst2-dev", str(d / "devfolder")], "--sst2-dev")
run("--sst2-dev empty", "ch07-text", lambda d: (d / "empty.tsv").write_bytes(b"") and None or ["--sst2-dev", str(d / "empty.tsv")], "--sst2-dev")
run("--target-norm none", "ch07-text", lambda d: None, "--target-norm must be layer or instance", args=["--target-norm", "none"])
run("--pretrained (committed, instance norm) with --target-norm layer", "ch07-text", lambda d: None, "was pretrained with target norm instance",
    args=["--pretrained", str(ROOT / "pretrained" / "ch07-text"), "--target-norm", "layer"])
run("--pooling-grid without --validation", "ch07-text", lambda d: None, "--pooling-grid is the search of --validation",
    args=["--pooling-grid", "max"])
run("--pooling-grid foo", "ch07-text", lambda d: None, "Please provide one of 'first', 'mean' or 'max'",
    args=["--validation", "--pooling-grid", "foo"])
run("a folder where vocab.json goes", "ch07-text",
    lambda d: (d.parent / "ck07" / "vocab.json").mkdir(parents=True) and None, "folder")

print()
print("## flags and output paths (ch02-autograd, ch05-vision)")
run("--threads -3", "ch02-autograd", lambda d: None, "--threads must be between 1 and 256", args=["--threads", "-3"])
run("--figures-dir inside a file (afile/sub)", "ch02-autograd",
    lambda d: (d / "afile").write_bytes(b"x") and None or ["--figures-dir", str(d / "afile" / "sub")], "is a file")
run("a folder where a figure goes", "ch02-autograd",
    lambda d: (d / "figs" / "02-loss.png").mkdir(parents=True) or ["--figures-dir", str(d / "figs")], "there is a folder of that name")
run("a folder where chapter 05's checkpoint goes", "ch05-vision",
    lambda d: (d / "ck").mkdir() or ["--checkpoint", str(d / "ck")], "this is a folder")

print()
print("## interrupts (ch07-text: SIGINT at many moments; nothing half-written may stay in the checkpoint folder)")
left_behind = []
for delay in [0.3, 0.6, 0.9, 1.2, 1.5, 2.0, 2.5, 3.0]:
    folder = fresh_data()
    process = subprocess.Popen([str(BIN / "ch07-text"), "--quick", "--data-dir", str(folder / "data"), "--figures-dir",
                                str(folder / "figures"), "--checkpoint-folder", str(folder / "ck07")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    status = process.wait(timeout=10)
    stray = [p.name for p in (folder / "ck07").glob(".*")] if (folder / "ck07").exists() else []
    left_behind += stray
    ok = status in (0, 130) and not stray
    failures += 0 if ok else 1
    print(f"{'ok  ' if ok else 'FAIL'} SIGINT after {delay:.1f} s{'':44} exit {status:>3}        temporary files left: {stray or 'none'}")
    shutil.rmtree(folder, ignore_errors=True)
writers = subprocess.run(["grep", "-rn", "atomically:", "Sources", "chapters"], capture_output=True, text=True, cwd=ROOT).stdout
ok = writers == ""
failures += 0 if ok else 1
print(f"{'ok  ' if ok else 'FAIL'} every file goes through AtomicFile: no write(atomically:) in Sources or chapters{'':3}{writers.strip()[:100]}")

print()
print(f"{failures} case{'s' if failures != 1 else ''} failed")
sys.exit(1 if failures else 0)
