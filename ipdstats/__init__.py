"""ipdstats: two-stage and one-stage individual participant data meta-analysis (numpy, scipy, pandas only)."""

__version__ = "0.1.0"
