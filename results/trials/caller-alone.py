# Where the caller thread of a two-thread bench-data2vec run works while the worker spins (the worker has no
# chunk): outside any Parallel region (serial parts of the step) or inside one (the last chunk of an uneven split).
# Input: `perf script -F tid,time,ip,sym` of `perf record -F 4000 --call-graph=fp bench-data2vec --config C --threads 2`.
# OpenBLAS's kernels keep no frame pointer, so a sample inside sgemm cannot be placed in or out of a region; such
# samples are counted as "outside" (an upper bound on the serial part).
import sys, re, collections
path = sys.argv[1]
samples = []  # (tid, time, frames)
cur = None
for line in open(path, errors='replace'):
    line = line.rstrip('\n')
    if not line:
        if cur: samples.append(cur); cur = None
        continue
    if not line.startswith('\t') and not line.startswith(' '):
        parts = line.split()
        cur = (int(parts[0]), float(parts[1].rstrip(':')), [])
    else:
        f = line.strip().split(None, 1)
        if cur and len(f) == 2: cur[2].append(f[1])
if cur: samples.append(cur)
count = collections.Counter(s[0] for s in samples)
caller = min(count)  # the main thread starts first
worker = max((tid for tid in count if tid != caller), key=count.get)  # the pool's worker: the other busy thread
print('caller', caller, 'worker', worker, count)
spin = re.compile(r'ensureWorkers|clock_gettime|dispatch_time|workerLoop')
window = 0.0005  # seconds: the worker's latest sample counts for the caller's sample if it is this recent
lastw = (None, -1)
serial = collections.Counter(); tails = collections.Counter(); opser = collections.Counter()
ncaller = nalone = nser = nown = 0
def op_frame(frames):  # the innermost frame of the project's own code, above the pool and BLAS
    for f in frames:
        if re.search(r'(Autograd|Data2Vec|NN|Optim|WideKernels)', f) and not re.search(r'WorkerPool|Parallel|forEachChunk|sgemm|BLAS', f):
            return f[:120]
    return frames[0][:120] if frames else '?'
for tid, t, fr in samples:
    if tid == worker:
        lastw = (fr[0] if fr else '', t); continue
    if tid != caller: continue
    ncaller += 1
    alone = lastw[0] and spin.search(lastw[0]) and t - lastw[1] < window
    if not alone: continue
    nalone += 1
    inregion = any(re.search(r'WorkerPool|forEachChunk', f) for f in fr)
    leaf = fr[0][:100] if fr else '?'
    if inregion: tails[leaf] += 1
    else:
        nser += 1; serial[leaf] += 1; opser[op_frame(fr)] += 1
        if not re.search(r'sgemm|memset', leaf): nown += 1
print(f'caller samples {ncaller}, alone {nalone} ({100*nalone/ncaller:.1f}%), of which outside any region {nser} ({100*nser/ncaller:.1f}%)')
print(f'outside any region and not in OpenBLAS (or its memset): {nown} ({100*nown/ncaller:.1f}%)')
print('--- serial, by leaf'); [print(f'{v:6d} {k}') for k, v in serial.most_common(25)]
print('--- serial, by op frame'); [print(f'{v:6d} {k}') for k, v in opser.most_common(30)]
print('--- tails (caller in a region, worker spinning), by leaf'); [print(f'{v:6d} {k}') for k, v in tails.most_common(12)]
