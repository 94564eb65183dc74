"""Interpretability: what a model looked at, how it argued, and what its answers depend on.

- `occlusion`: occlusion sensitivity maps for any model (from an occlusion run's stored answers), overlays;
- `attention`: attention maps of local transformers models;
- `cues`, `reasoning`: reasoning-chain analysis (cues cited, reasoning that contradicts the answer);
- `perturb`, `strategies`, `experiments`, `probes`: image probes and occlusion as prompt strategies,
  the experiments that run them, and the paired probe comparisons;
- `queries`, `export`: DataFrames for the dashboard, PNG overlays on disk.
"""
