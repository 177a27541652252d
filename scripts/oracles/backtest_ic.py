"""scipy's Pearson and Spearman IC of each analyst in a backtest's decisions.csv, over the run
and per calendar year, for the backtest IC oracle test.

Usage: backtest_ic.py DECISIONS_CSV. Uses the rows with both a score and a forward return
(the risk analyst does not vote and is left out). Prints JSON
{"<analyst> <all|year>": {"n", "pearson", "spearman"}} with null for an undefined correlation.
"""
import json
import math
import sys

import pandas as pd
from scipy import stats

frame = pd.read_csv(sys.argv[1], dtype={"date": str})
frame = frame[(frame["analyst"] != "risk")].dropna(subset=["score", "forward_return"])
frame["year"] = frame["date"].str[:4]


def ic(part):
    def clean(x):
        x = float(x)
        return None if math.isnan(x) else x

    if len(part) < 2 or part["score"].nunique() < 2 or part["forward_return"].nunique() < 2:
        return {"n": len(part), "pearson": None, "spearman": None}
    return {
        "n": len(part),
        "pearson": clean(stats.pearsonr(part["score"], part["forward_return"]).statistic),
        "spearman": clean(stats.spearmanr(part["score"], part["forward_return"]).statistic),
    }


out = {}
for analyst, rows in frame.groupby("analyst"):
    out[f"{analyst} all"] = ic(rows)
    for year, part in rows.groupby("year"):
        out[f"{analyst} {year}"] = ic(part)
print(json.dumps(out))
