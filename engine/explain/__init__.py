"""Interpretability: what a model looked at, how it argued, and what its answers depend on.

- `occlusion`: occlusion sensitivity maps for any model (from an occlusion run's stored answers), overlays;
- `attention`: attention maps of local transformers models;
- `cues`, `reasoning`: reasoning-chain analysis (cues cited, reasoning that contradicts the answer);
- `experiments`, `probes`: the experiments that run image probes and occlusion (the image transforms are
  `engine.perturb`, the strategies wrapping them `engine.prompts.probing`) and the paired probe comparisons;
- `queries`, `export`: DataFrames for the dashboard, PNG overlays on disk.
"""
