"""Studies that only write reports: walk-forward, leave-one-asset-out, the ablation and the window's limits."""
