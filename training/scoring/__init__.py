"""How a model is scored: metrics and tests, the simple methods beside it, the held-out days, and the gate."""
