"""The statistical core: pure numpy/scipy/pandas, no web, database or CLI code.

Subpackages: ``did`` (staggered DiD, event studies, TWFE), ``synth`` (synthetic control,
synthetic DiD), ``trials`` (randomised and cluster-randomised pilots), ``power`` (design
help), ``meta`` (evidence synthesis), ``followup`` (peer comparison), ``audit`` (burden and
signal audit), ``survey`` (indices with disclosure control).
"""
