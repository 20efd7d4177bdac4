"""Training pipeline: features, search, fit, evaluate, fairness, explanations."""
