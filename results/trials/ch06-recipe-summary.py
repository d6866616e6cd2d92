#!/usr/bin/env python3
# Summarizes results/trials/ch06-recipe.txt: for each recipe, over its pretraining seeds, data2vec's logistic probe
# averaged over 1, 5 and 10 labelled clips per digit, and its margin over the random encoder and over log-mel
# statistics (each averaged the same way, seed by seed). Standard library only.
#   scripts/record.sh trials/ch06-recipe-summary python3 results/trials/ch06-recipe-summary.py results/trials/ch06-recipe.txt
import re,collections,sys
txt=open(sys.argv[1]).read()
runs=txt.split('### ')[1:]
res=collections.defaultdict(list)
for r in runs:
    head=r.split('\n')[0]; setting=re.sub(r'--seed \d+ ?','',head).strip() or 'chapter recipe'
    seed=re.search(r'--seed (\d+)',head).group(1)
    d=re.search(r'data2vec, this run \(logmel\), logistic\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)%',r)
    rnd=re.search(r'random encoder \(logmel\), logistic\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)%',r)
    lm=re.search(r'log-mel statistics, logistic\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)%',r)
    if not d: continue
    dv=[float(x) for x in d.groups()[:3]]; rv=[float(x) for x in rnd.groups()]; lv=[float(x) for x in lm.groups()]
    res[setting].append((seed,sum(dv)/3,sum(dv)/3-sum(rv)/3,sum(dv)/3-sum(lv)/3))
for k,v in res.items():
    n=len(v)
    print('%-28s seeds %s  mean(1-10) %.1f  vs random %+.1f  vs log-mel %+.1f   per seed %s'%(k,','.join(x[0] for x in v),sum(x[1] for x in v)/n,sum(x[2] for x in v)/n,sum(x[3] for x in v)/n,' / '.join('%.1f'%x[1] for x in v)))
