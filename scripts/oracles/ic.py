"""scipy's Pearson and Spearman correlations of two columns, for the IC oracle test.

Usage: ic.py CSV  (columns score,return). Prints JSON {pearson, spearman, scipy}.
"""
import json
import sys

import pandas as pd
import scipy
from scipy import stats

frame = pd.read_csv(sys.argv[1])
pearson = stats.pearsonr(frame["score"], frame["return"])
spearman = stats.spearmanr(frame["score"], frame["return"])
print(json.dumps({
    "pearson": float(pearson.statistic),
    "spearman": float(spearman.statistic),
    "scipy": scipy.__version__,
}))
