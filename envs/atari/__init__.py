"""Environments for DQN: ALE games through ale-py's vectorized C++ env under a named protocol
(machado or nature), and gymnasium classic control, behind one stepping contract (step.py)."""
