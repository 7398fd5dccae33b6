"""Online log template mining: variable masking, the template miner, and a drain3 adapter."""

from aiops.logmining.masking import VariableMasker, mask_secrets, sanitize_line
from aiops.logmining.miner import LogCluster, MatchResult, TemplateMiner

__all__ = ["LogCluster", "MatchResult", "TemplateMiner", "VariableMasker", "mask_secrets", "sanitize_line"]
