"""Evaluation: metrics (:mod:`pymia.evaluation.metric`), evaluators (:mod:`pymia.evaluation.evaluator`)
and writers (:mod:`pymia.evaluation.writer`). Submodules are imported on demand.
"""
