"""Scoring with the champion: loading it from the registry or the verified cache, the
compiled scorer and its tree kernels, the model's extras, and offline CSV scoring."""
