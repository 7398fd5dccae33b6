"""The default ensemble vectorised over many series (micro-batched): the state layout (`layout`), the
members' and confirmation columns (`members`, `seasonal`, `held`), which columns hold which scalar member
(`registry`), the bank (`ensemble_bank`), its per-point results (`scores`) and the `SeriesDetector` view
the stage hands the episode tracker (`banked`). Mirrors `detectors.metric` formula for formula; imports
it and `detectors.base` only."""
