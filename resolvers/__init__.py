"""Dependency sets: requirement and lock files and their ROCm and CPU variants."""
