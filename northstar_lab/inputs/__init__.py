"""Input metrics: the tree under a chosen North Star, with evidence that each input leads it.

`analyse_inputs(analysis, loaded, north_star)` measures every candidate input (and the analyst's
own) in the first W days, the North Star in the following H days, and reports per input its lead
(user level, beyond the North Star's own early level), its product-level lag correlation and,
given past experiments, how well moving it moved the North Star. Association, not causation,
except where the experiments speak (METHODS §9).
"""
