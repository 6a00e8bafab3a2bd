"""CUDA C++ sources, CUDA embedded in Python strings, and CUDA builds (CMake, nvcc flags)."""
