"""Metrics of a NAV series by quantstats and empyrical, for the oracle test of stockpilot's.

Usage: metrics.py NAV_CSV RISK_FREE  (CSV columns date,nav,benchmark; RISK_FREE yearly)
Prints one JSON object: {"quantstats": {...}, "empyrical": {...}}.
"""
import json
import sys
import warnings

import empyrical as ep
import pandas as pd
import quantstats as qs

warnings.filterwarnings("ignore")
PERIODS = 252

frame = pd.read_csv(sys.argv[1], parse_dates=["date"], index_col="date")
rf = float(sys.argv[2])
returns = frame["nav"].pct_change().dropna()
bench = frame["benchmark"].pct_change().dropna()
# quantstats de-annualises a yearly rate; empyrical takes the per-period rate as given.
rf_period = (1 + rf) ** (1 / PERIODS) - 1

out = {
    "quantstats": {
        "sharpe": qs.stats.sharpe(returns, rf=rf, periods=PERIODS),
        "sortino": qs.stats.sortino(returns, rf=rf, periods=PERIODS),
        "annual_volatility": qs.stats.volatility(returns, periods=PERIODS),
        "max_drawdown": -qs.stats.max_drawdown(returns),
        "annual_return": qs.stats.cagr(returns, periods=PERIODS),
    },
    "empyrical": {
        "sharpe": ep.sharpe_ratio(returns, risk_free=rf_period),
        "sortino": ep.sortino_ratio(returns, required_return=rf_period),
        "annual_volatility": ep.annual_volatility(returns),
        "max_drawdown": -ep.max_drawdown(returns),
        "annual_return": ep.annual_return(returns),
        "beta": ep.beta(returns, bench, risk_free=rf_period),
        "alpha": ep.alpha(returns, bench, risk_free=rf_period),
    },
    "versions": {"quantstats": qs.__version__, "empyrical": ep.__version__},
}
for library in ("quantstats", "empyrical"):
    out[library] = {name: float(value) for name, value in out[library].items()}
print(json.dumps(out))
