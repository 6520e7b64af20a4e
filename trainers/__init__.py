"""Trainers: turn per-step advantages into new policy weights (PyTorch)."""
