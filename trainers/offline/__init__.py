"""Offline training of LLM agents from logged multi-turn trajectories.

OREO (soft-Bellman policy and value), trajectory-level DPO / SimPO and behaviour cloning on the
same tokenized dataset; value-guided action selection at test time; iterated OREO.
Heavy modules (torch, transformers) are imported by the submodules, not here.
"""
# `oreo:<run dir>[,k=5]` (the value-guided agent of an exported OREO run, value_search.py) is
# listed in turnrl.agents.registry like every other agent kind.
